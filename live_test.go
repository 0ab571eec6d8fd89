package daytona_test

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/agentworkspace/daytona"
	"github.com/agentworkspace/daytona/workspace"
	"github.com/agentworkspace/daytona/workspace/sandboxtest"
)

// liveSeq numbers the sandboxes of one live run.
var liveSeq atomic.Int64

// TestLiveConformance runs the conformance suite against real Daytona. It
// runs only when DAYTONA_API_KEY is set in the environment (DAYTONA_API_URL
// and DAYTONA_TARGET are honoured too; .env files are not read):
//
//	DAYTONA_API_KEY=... go test -run Live -timeout 30m .
//
// The subtests run one after another, each with its own sandbox, so the
// run takes several minutes; hence the -timeout. Every sandbox is
// ephemeral (Daytona deletes it when it stops), auto-stops after 5 idle
// minutes, is labelled purpose=live-test, is named live-test-<time>-<n>,
// and is destroyed when its subtest ends, so that an interrupted run leaves
// nothing behind for long and leftovers are easy to find. The Filesystem
// subtests run too (daytona.Sandbox implements
// workspace.FilesystemProvider): they check the file endpoints of the live
// service, including the file information that the SDK v0.173.0 cannot
// decode from daemons of v0.184.0 and later (modifiedAt), and
// fstest.TestFS over workspace.FS.
func TestLiveConformance(t *testing.T) {
	key := os.Getenv("DAYTONA_API_KEY")
	if key == "" {
		t.Skip("DAYTONA_API_KEY is not set: skipping the live conformance suite against real Daytona")
	}
	base := []daytona.Option{
		daytona.WithAPIKey(key),
		daytona.WithoutEnvironment(), // the key comes from the environment only, never from .env files
		daytona.WithEphemeral(true),
		daytona.WithAutoStopInterval(5 * time.Minute),
		daytona.WithLabels(map[string]string{"purpose": "live-test", "suite": "sandboxtest"}),
	}
	if u := os.Getenv("DAYTONA_API_URL"); u != "" {
		base = append(base, daytona.WithAPIURL(u))
	}
	if target := os.Getenv("DAYTONA_TARGET"); target != "" {
		base = append(base, daytona.WithTarget(target))
	}
	run := time.Now().UTC().Format("20060102-150405")
	t.Cleanup(func() {
		// The SDK's HTTP clients use http.DefaultTransport, whose idle
		// keep-alive connections to Daytona would otherwise outlive the
		// test and fail goleak in TestMain.
		if tr, ok := http.DefaultTransport.(*http.Transport); ok {
			tr.CloseIdleConnections()
		}
	})

	skip := maps.Clone(knownBugs)
	skip["Lifecycle/StopKeepsFiles"] = "live sandboxes are ephemeral: Daytona deletes them, files and all, when they stop"

	sandboxtest.Run(t, sandboxtest.Config{
		New: func(t *testing.T) workspace.Sandbox {
			id := fmt.Sprintf("live-test-%s-%d", run, liveSeq.Add(1))
			sb, err := daytona.New(append(base[:len(base):len(base)], daytona.WithID(id))...)
			if err != nil {
				t.Fatalf("daytona.New: %v", err)
			}
			t.Logf("sandbox %s", id)
			t.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				defer cancel()
				if err := sb.Destroy(ctx); err != nil {
					t.Errorf("destroy sandbox %s (find it by the label purpose=live-test): %v", id, err)
				}
			})
			return sb
		},
		MountSpec: liveMountSpec,
		Timeout:   3 * time.Minute,
		Skip:      skip,
	})
}

// liveMountSpec is the S3-compatible bucket the live Mounts subtests mount
// (writing one file and removing it), from S3_BUCKET, S3_ACCESS_KEY_ID and
// S3_SECRET_ACCESS_KEY (with S3_ENDPOINT and S3_REGION for R2, MinIO, or
// a region other than us-east-1), as in Mastra's integration tests. Without
// them those subtests skip: there is no FUSE where the other tests run.
func liveMountSpec(*testing.T) (workspace.MountSpec, bool) {
	spec := workspace.MountSpec{
		Type: workspace.MountS3, Bucket: os.Getenv("S3_BUCKET"), Region: os.Getenv("S3_REGION"), Endpoint: os.Getenv("S3_ENDPOINT"),
		AccessKeyID: os.Getenv("S3_ACCESS_KEY_ID"), SecretAccessKey: os.Getenv("S3_SECRET_ACCESS_KEY"),
	}
	return spec, spec.Bucket != "" && spec.AccessKeyID != "" && spec.SecretAccessKey != ""
}
