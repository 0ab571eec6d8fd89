// Options shows how a Sandbox is configured: the creation modes (snapshot,
// image with resources, default), volumes, environment, labels, network
// rules and ephemeral sandboxes, each with the instructions an agent would
// see, and how New rejects invalid options.
//
//	go run ./examples/options
//
// With the in-process Daytona (no DAYTONA_API_KEY) every sandbox is also
// started, and the example prints what the server was asked to create. With
// the real Daytona it only configures them: the snapshot, image and volume
// named here do not exist in your organization.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/agentworkspace/daytona"
	"github.com/agentworkspace/daytona/daytonatest"
	"github.com/agentworkspace/daytona/examples/internal/examplesupport"
)

func main() {
	examplesupport.Main(run)
}

// setup is one way to configure a sandbox, and what it must create.
type setup struct {
	title string // what it shows
	mode  string // the creation mode it selects, in words
	opts  []daytona.Option

	// What the in-process server must be asked to create: an image, or a
	// snapshot ("" meaning Daytona's default one); with resources, if set.
	wantImage     bool
	wantSnapshot  string
	wantResources *daytona.Resources
}

// setups are the configurations the example shows: the creation modes,
// then what else a sandbox is given.
func setups(w io.Writer) []setup {
	return append(modeSetups(w), otherSetups()...)
}

// modeSetups select the creation modes. Warnings (such as resources
// without an image) go to w; the default logger is silent.
func modeSetups(w io.Writer) []setup {
	warnings := slog.New(slog.NewTextHandler(indented{w}, &slog.HandlerOptions{
		Level: slog.LevelWarn,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{} // keep the lines short
			}
			return a
		},
	}))
	return []setup{{
		title: "defaults",
		mode:  "default snapshot",
	}, {
		title: "snapshot",
		mode:  "snapshot-based",
		opts: []daytona.Option{
			daytona.WithSnapshot("my-snapshot-id"),
			daytona.WithTimeout(time.Minute),
		},
		wantSnapshot: "my-snapshot-id",
	}, {
		title: "image with resources",
		mode:  "image-based, with resources",
		opts: []daytona.Option{
			daytona.WithImage("node:20-slim"),
			daytona.WithResources(daytona.Resources{CPU: 2, Memory: 4, Disk: 6}),
			daytona.WithLanguage(daytona.TypeScript),
		},
		wantImage:     true,
		wantResources: &daytona.Resources{CPU: 2, Memory: 4, Disk: 6},
	}, {
		title: "snapshot and image",
		mode:  "snapshot-based: the snapshot wins over the image and resources",
		opts: []daytona.Option{
			daytona.WithSnapshot("my-snapshot-id"),
			daytona.WithImage("node:20-slim"),
			daytona.WithResources(daytona.Resources{CPU: 4}),
		},
		wantSnapshot: "my-snapshot-id",
	}, {
		title: "resources without an image",
		mode:  "default snapshot: the resources are ignored, with a warning",
		opts: []daytona.Option{
			daytona.WithResources(daytona.Resources{CPU: 4}),
			daytona.WithLogger(warnings),
		},
		wantResources: &daytona.Resources{CPU: daytonatest.DefaultCPU, Memory: daytonatest.DefaultMemory, Disk: daytonatest.DefaultDisk},
	}}
}

// otherSetups give a sandbox (made from the default snapshot) volumes, an
// environment, labels, network rules, a short life.
func otherSetups() []setup {
	return []setup{{
		title: "volumes",
		mode:  "default snapshot, with a volume mounted at /data",
		opts: []daytona.Option{
			daytona.WithVolumes(daytona.VolumeMount{VolumeID: "vol-123", MountPath: "/data"}),
		},
	}, {
		title: "environment",
		mode:  "default snapshot; every command sees GREETING",
		opts: []daytona.Option{
			daytona.WithEnv(map[string]string{"GREETING": "hello from WithEnv"}),
		},
	}, {
		title: "labels",
		mode:  "default snapshot, labelled (mastra-sandbox-id is always added)",
		opts: []daytona.Option{
			daytona.WithLabels(map[string]string{"team": "agents", "purpose": "example"}),
		},
	}, {
		title: "network",
		mode:  "default snapshot; outbound traffic blocked except two private ranges",
		opts: []daytona.Option{
			daytona.WithNetworkBlockAll(true),
			daytona.WithNetworkAllowList("10.0.0.0/8,192.168.0.0/16"),
		},
	}, {
		title: "ephemeral",
		mode:  "default snapshot; Daytona deletes it as soon as it stops",
		opts: []daytona.Option{
			daytona.WithEphemeral(true),
			daytona.WithLanguage(daytona.Python),
		},
	}, {
		title: "everything the agent is told about",
		mode:  "default snapshot",
		opts: []daytona.Option{
			daytona.WithLanguage(daytona.Python),
			daytona.WithTimeout(60 * time.Second),
			daytona.WithUser("app"),
			daytona.WithVolumes(daytona.VolumeMount{VolumeID: "vol-123", MountPath: "/data"}),
			daytona.WithNetworkBlockAll(true),
		},
	}}
}

func run(ctx context.Context, w io.Writer) error {
	b, err := examplesupport.Open(ctx, w)
	if err != nil {
		return err
	}
	defer b.Close()
	if b.Embedded() {
		// The in-process organization has only Daytona's default snapshot:
		// add the one this example names, as the dashboard would.
		if err := b.Server().AddSnapshot(daytonatest.Snapshot{Name: "my-snapshot-id"}); err != nil {
			return err
		}
	}

	for i, s := range setups(w) {
		fmt.Fprintf(w, "\n%d. %s\n   mode: %s\n", i+1, s.title, s.mode)
		if err := s.show(ctx, w, b); err != nil {
			return fmt.Errorf("%s: %w", s.title, err)
		}
	}
	return showInvalid(w)
}

// show makes a Sandbox of s and prints what an agent is told about it;
// with the in-process Daytona, it also starts it and checks what was
// created.
func (s setup) show(ctx context.Context, w io.Writer, b *examplesupport.Backend) error {
	sb, err := b.New(s.opts...) // validates the options; no request yet
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "   instructions: %s\n", sb.GetInstructions())
	if !b.Embedded() {
		return nil // the example's snapshot, image and volume are made up
	}
	if err := sb.Start(ctx); err != nil {
		return fmt.Errorf("start: %w", err)
	}
	rec, ok := b.Server().Sandbox(sb.DaytonaID())
	if !ok {
		return fmt.Errorf("the server has no sandbox %s", sb.DaytonaID())
	}
	fmt.Fprintf(w, "   created: %s\n", describe(rec))
	if err := s.check(rec); err != nil {
		return err
	}
	if s.title == "environment" {
		res, err := sb.ExecuteCommand(ctx, `echo "$GREETING"`, nil, nil)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "   echo \"$GREETING\": %s", res.Stdout)
		if res.Stdout != "hello from WithEnv\n" {
			return errors.New("GREETING is not set")
		}
	}
	return sb.Destroy(ctx)
}

// showInvalid shows New refusing invalid options before any request.
func showInvalid(w io.Writer) error {
	fmt.Fprintln(w, "\nInvalid options fail in New, before any request:")
	for _, opt := range []daytona.Option{
		daytona.WithTimeout(-5 * time.Second),
		daytona.WithResources(daytona.Resources{CPU: -1}),
		daytona.WithVolumes(daytona.VolumeMount{VolumeID: "vol-123", MountPath: "data"}),
		daytona.WithNetworkAllowList("10.0.0.0"),
		daytona.WithAutoStopInterval(90 * time.Second),
		daytona.WithEnv(map[string]string{"NOT-A-NAME": "x"}),
	} {
		_, err := daytona.New(opt)
		if !errors.Is(err, daytona.ErrInvalidInput) {
			return fmt.Errorf("want an error matching daytona.ErrInvalidInput, got %v", err)
		}
		fmt.Fprintf(w, "   %v\n", err)
	}
	fmt.Fprintln(w, "   (each matches errors.Is(err, daytona.ErrInvalidInput))")
	return nil
}

// check compares what the server was asked to create with what s wants.
func (s setup) check(rec daytonatest.Sandbox) error {
	want := s.wantSnapshot
	if want == "" {
		want = daytonatest.DefaultSnapshot
	}
	switch {
	case s.wantImage && rec.Dockerfile == "":
		return fmt.Errorf("want a sandbox created from an image, got snapshot %q", rec.Snapshot)
	case !s.wantImage && rec.Snapshot != want:
		return fmt.Errorf("want a sandbox created from snapshot %q, got snapshot %q, image %q", want, rec.Snapshot, rec.Dockerfile)
	}
	if r := s.wantResources; r != nil && (rec.CPU != r.CPU || rec.Memory != r.Memory || rec.Disk != r.Disk) {
		return fmt.Errorf("want resources %+v, got CPU %d, memory %d, disk %d", *r, rec.CPU, rec.Memory, rec.Disk)
	}
	return nil
}

// describe summarizes what the in-process server was asked to create.
func describe(rec daytonatest.Sandbox) string {
	var parts []string
	if rec.Dockerfile != "" {
		parts = append(parts, fmt.Sprintf("from an image (%s)", strings.TrimSpace(rec.Dockerfile)))
	} else {
		parts = append(parts, "from snapshot "+rec.Snapshot)
	}
	parts = append(parts, fmt.Sprintf("%d CPU, %d GiB memory, %d GiB disk", rec.CPU, rec.Memory, rec.Disk))
	for _, v := range rec.Volumes {
		parts = append(parts, fmt.Sprintf("volume %s at %s", v.VolumeID, v.MountPath))
	}
	// The SDK adds code-toolbox-language and this package mastra-sandbox-id
	// to every sandbox; show them only beside labels of our own.
	var labels []string
	for _, k := range slices.Sorted(maps.Keys(rec.Labels)) {
		if k != "code-toolbox-language" && k != "mastra-sandbox-id" {
			labels = append(labels, k+"="+rec.Labels[k])
		}
	}
	if len(labels) > 0 {
		labels = append(labels, "mastra-sandbox-id="+rec.Labels["mastra-sandbox-id"])
		parts = append(parts, "labels "+strings.Join(labels, ", "))
	}
	if rec.NetworkBlockAll {
		parts = append(parts, "network blocked")
	}
	if rec.NetworkAllowList != "" {
		parts = append(parts, "allowed "+rec.NetworkAllowList)
	}
	if rec.AutoDeleteInterval == 0 {
		parts = append(parts, "deleted on stop (autoDeleteInterval 0)")
	}
	if rec.User != daytonatest.DefaultUser {
		parts = append(parts, "user "+rec.User)
	}
	return strings.Join(parts, "; ")
}

// indented writes each line it is given (slog writes one line per Write)
// indented, to line up with the rest of the output.
type indented struct{ w io.Writer }

func (i indented) Write(p []byte) (int, error) {
	if _, err := fmt.Fprintf(i.w, "   %s", p); err != nil {
		return 0, err
	}
	return len(p), nil
}
