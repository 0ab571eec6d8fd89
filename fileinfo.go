package daytona

import (
	"io/fs"
	"time"

	"github.com/agentworkspace/daytona/internal/toolbox"
)

// FileStat is what the Sys method of the fs.FileInfo values of a
// Filesystem returns: what the toolbox reports beyond fs.FileInfo.
type FileStat struct {
	// Owner and Group are the numeric user and group ids, as decimal
	// strings (the toolbox sends no names).
	Owner string
	Group string
}

// fileInfo is a file as the toolbox describes it (decoded by
// toolbox.DecodeInfo), as an fs.FileInfo.
type fileInfo struct {
	info toolbox.FileInfo
	sys  *FileStat
}

func newFileInfo(info toolbox.FileInfo) *fileInfo {
	return &fileInfo{info: info, sys: &FileStat{Owner: info.Owner, Group: info.Group}}
}

func (fi *fileInfo) Name() string       { return fi.info.Name }
func (fi *fileInfo) Size() int64        { return fi.info.Size }
func (fi *fileInfo) Mode() fs.FileMode  { return fi.info.Mode }
func (fi *fileInfo) ModTime() time.Time { return fi.info.ModTime }
func (fi *fileInfo) IsDir() bool        { return fi.info.Mode.IsDir() }
func (fi *fileInfo) Sys() any           { return fi.sys }
