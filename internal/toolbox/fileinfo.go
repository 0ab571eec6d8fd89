package toolbox

import (
	"encoding/json"
	"errors"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"time"
)

// File information as the toolbox sends it, decoded here rather than by
// the SDK: the SDK v0.173.0's decoder refuses the modifiedAt key that
// daemons from v0.184.0 add, and reads size as a 32-bit number, so it fails
// on today's service and on files of 2 GiB or more.

// wireInfo is the toolbox's FileInfo object, read leniently: unknown keys
// are ignored, missing ones are zero, size is a 64-bit number.
type wireInfo struct {
	Name        string      `json:"name"`
	Size        json.Number `json:"size"`
	Mode        string      `json:"mode"`
	ModTime     string      `json:"modTime"`    // Go's time.Time.String() layout
	ModifiedAt  string      `json:"modifiedAt"` // RFC 3339, daemons from v0.184.0
	IsDir       bool        `json:"isDir"`
	Owner       string      `json:"owner"`
	Group       string      `json:"group"`
	Permissions string      `json:"permissions"` // octal, such as "0644"
}

// FileInfo is a file as the toolbox describes it.
type FileInfo struct {
	Name    string // the base name ("" if the toolbox sent none)
	Size    int64
	Mode    fs.FileMode // with fs.ModeDir for a directory
	ModTime time.Time
	// Owner and Group are the numeric user and group ids, as decimal
	// strings (the toolbox sends no names).
	Owner, Group string
}

// ErrBadInfo is a file description the toolbox sent that cannot be read.
var ErrBadInfo = errors.New("malformed file information")

// DecodeInfo decodes one FileInfo object.
func DecodeInfo(data []byte) (FileInfo, error) {
	var w wireInfo
	if err := json.Unmarshal(data, &w); err != nil {
		return FileInfo{}, errors.Join(ErrBadInfo, err)
	}
	return w.info()
}

// DecodeInfos decodes a listing: a JSON array of FileInfo objects.
func DecodeInfos(data []byte) ([]FileInfo, error) {
	var ws []wireInfo
	if err := json.Unmarshal(data, &ws); err != nil {
		return nil, errors.Join(ErrBadInfo, err)
	}
	out := make([]FileInfo, 0, len(ws))
	for _, w := range ws {
		fi, err := w.info()
		if err != nil {
			return nil, err
		}
		out = append(out, fi)
	}
	return out, nil
}

// info converts the wire form. The mode comes from the mode string (Go's
// FileMode.String()), falling back to the octal permissions and isDir;
// isDir wins for the directory bit, except for a symbolic link. The time comes from modifiedAt, else
// modTime.
func (w wireInfo) info() (FileInfo, error) {
	size, err := w.Size.Int64()
	if w.Size == "" {
		size, err = 0, nil
	}
	if err != nil || size < 0 {
		return FileInfo{}, errors.Join(ErrBadInfo, errors.New("size "+strconv.Quote(w.Size.String())))
	}
	mode, ok := parseFileMode(w.Mode)
	if !ok {
		perm, _ := strconv.ParseUint(w.Permissions, 8, 32)
		mode = fs.FileMode(perm) & fs.ModePerm
	}
	switch {
	case mode&fs.ModeSymlink != 0:
		// A link described as a link (a daemon that would use Lstat; the
		// daemon up to v0.190.0 uses os.Stat and never does,
		// pkg/toolbox/fs/get_file_info.go:52-69): it is no directory,
		// whatever it points to.
		mode &^= fs.ModeDir
	case w.IsDir:
		mode |= fs.ModeDir
	default:
		mode &^= fs.ModeDir
	}
	fi := FileInfo{
		Name: path.Base(w.Name), Size: size, Mode: mode,
		ModTime: parseModTime(w.ModifiedAt, w.ModTime),
		Owner:   w.Owner, Group: w.Group,
	}
	if w.Name == "" {
		fi.Name = ""
	}
	return fi, nil
}

// modeLetters are the letters FileMode.String() writes for the type and
// special bits, one per bit from fs.ModeDir down.
const modeLetters = "dalTLDpSugct?"

// parseFileMode parses FileMode.String()'s output: letters for the type
// and special bits, in their order ("-" when there are none), then nine
// rwx characters.
func parseFileMode(s string) (fs.FileMode, bool) {
	if len(s) < 10 {
		return 0, false
	}
	head, perm := s[:len(s)-9], s[len(s)-9:]
	var m fs.FileMode
	const rwx = "rwxrwxrwx"
	for i := range 9 {
		switch perm[i] {
		case rwx[i]:
			m |= 1 << uint(8-i)
		case '-':
		default:
			return 0, false
		}
	}
	if head == "-" {
		return m, true
	}
	next := 0
	for _, c := range head {
		i := strings.IndexRune(modeLetters[next:], c)
		if i < 0 {
			return 0, false
		}
		next += i + 1
		m |= 1 << uint(32-next)
	}
	return m, true
}

// parseModTime returns the time of modifiedAt (RFC 3339), else of modTime
// (time.Time.String(): "2006-01-02 15:04:05.999999999 -0700 MST", perhaps
// with a monotonic-clock suffix), else the zero time.
func parseModTime(modifiedAt, modTime string) time.Time {
	if t, err := time.Parse(time.RFC3339Nano, modifiedAt); err == nil {
		return t
	}
	f := strings.Fields(modTime)
	if len(f) < 3 {
		return time.Time{}
	}
	t, err := time.Parse("2006-01-02 15:04:05.999999999 -0700", f[0]+" "+f[1]+" "+f[2])
	if err != nil {
		return time.Time{}
	}
	return t
}
