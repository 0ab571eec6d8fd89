//go:build unix

package daytonatest

import (
	"fmt"
	"slices"
	"strings"
)

// Op names an operation of the Daytona API, as counted by the request log
// and targeted by [Server.FailNext].
type Op string

// Control-plane operations ({URL}/api).
const (
	OpCreate          Op = "create"            // POST /sandbox
	OpList            Op = "list"              // GET /sandbox
	OpListPaginated   Op = "list-paginated"    // GET /sandbox/paginated
	OpGet             Op = "get"               // GET /sandbox/{idOrName}
	OpStart           Op = "start"             // POST /sandbox/{id}/start
	OpStop            Op = "stop"              // POST /sandbox/{id}/stop
	OpArchive         Op = "archive"           // POST /sandbox/{id}/archive
	OpDelete          Op = "delete"            // DELETE /sandbox/{id}
	OpToolboxProxyURL Op = "toolbox-proxy-url" // GET /sandbox/{id}/toolbox-proxy-url
)

// Toolbox operations ({URL}/toolbox/{sandboxId}).
const (
	OpExecute       Op = "execute"        // POST /process/execute
	OpCreateSession Op = "create-session" // POST /process/session
	OpListSessions  Op = "list-sessions"  // GET /process/session
	OpGetSession    Op = "get-session"    // GET /process/session/{sid}
	OpDeleteSession Op = "delete-session" // DELETE /process/session/{sid}
	OpSessionExec   Op = "session-exec"   // POST /process/session/{sid}/exec
	OpGetCommand    Op = "get-command"    // GET /process/session/{sid}/command/{cid}
	OpCommandLogs   Op = "command-logs"   // GET /process/session/{sid}/command/{cid}/logs
	OpFollowLogs    Op = "follow-logs"    // the same path with ?follow=true (a stream if it is a WebSocket upgrade)
	OpSendInput     Op = "send-input"     // POST /process/session/{sid}/command/{cid}/input
	OpWorkDir       Op = "work-dir"       // GET /work-dir
	OpHomeDir       Op = "home-dir"       // GET /user-home-dir
)

// Toolbox file operations ({URL}/toolbox/{sandboxId}/files), served by
// files.go, files_transfer.go and files_search.go.
const (
	OpListFiles      Op = "list-files"       // GET /files (and /files/)
	OpFileInfo       Op = "file-info"        // GET /files/info
	OpCreateFolder   Op = "create-folder"    // POST /files/folder
	OpDeleteFile     Op = "delete-file"      // DELETE /files (and /files/)
	OpMoveFile       Op = "move-file"        // POST /files/move
	OpSetPermissions Op = "set-permissions"  // POST /files/permissions
	OpUploadFile     Op = "upload-file"      // POST /files/upload (multipart, streamed)
	OpDownloadFile   Op = "download-file"    // GET /files/download
	OpBulkDownload   Op = "bulk-download"    // POST /files/bulk-download
	OpFindInFiles    Op = "find-in-files"    // GET /files/find
	OpSearchFiles    Op = "search-files"     // GET /files/search
	OpReplaceInFiles Op = "replace-in-files" // POST /files/replace
)

// OpUnknown is recorded for requests that match no route.
const OpUnknown Op = "unknown"

// operations lists the operations of the API (every Op but [OpUnknown]), in
// the order of the package documentation: the ones [Server.FailNext]
// accepts.
var operations = []Op{
	OpCreate, OpGet, OpList, OpListPaginated, OpStart, OpStop, OpArchive, OpDelete, OpToolboxProxyURL,
	OpExecute, OpCreateSession, OpListSessions, OpGetSession, OpDeleteSession, OpSessionExec,
	OpGetCommand, OpCommandLogs, OpFollowLogs, OpSendInput, OpWorkDir, OpHomeDir,
	OpListFiles, OpFileInfo, OpCreateFolder, OpDeleteFile, OpMoveFile, OpSetPermissions,
	OpUploadFile, OpDownloadFile, OpBulkDownload, OpFindInFiles, OpSearchFiles, OpReplaceInFiles,
	OpPreviewURL, OpSignedPreviewURL, OpExpirePreviewURL, OpLastActivity, OpSetAutoStop, OpMetrics, OpPortInUse,
	OpRecover, OpPause, OpSetAutoArchive, OpSetAutoDelete, OpSetAutoPause, OpReplaceLabels, OpUploadFileV2, OpSetTTL,
}

// streamedOps are the operations whose request body their handler reads
// itself, as it arrives, instead of the body being read (within the
// family's limit) before the handler runs: uploads, which the daemon
// accepts at any size.
var streamedOps = map[Op]bool{OpUploadFile: true, OpUploadFileV2: true}

// checkOp returns an error naming the valid operations unless op is one.
// [OpUnknown] is not: requests that match no route never reach a fault.
func checkOp(op Op) error {
	if slices.Contains(operations, op) {
		return nil
	}
	names := make([]string, len(operations))
	for i, o := range operations {
		names[i] = string(o)
	}
	return fmt.Errorf("daytonatest: unknown operation %q; the operations are %s", op, strings.Join(names, ", "))
}
