package controlplane

import (
	"maps"
	"time"

	apiclient "github.com/daytonaio/daytona/libs/api-client-go"
	"github.com/daytonaio/daytona/libs/sdk-go/pkg/types"
)

// CreateSpec is what the options say about a sandbox to create.
type CreateSpec struct {
	Name        string
	User        string            // "" for Daytona's default
	Labels      map[string]string // the logical id's label included
	Language    string
	Public      bool
	BlockAll    bool
	AllowList   *string
	AutoStop    time.Duration
	AutoArchive *time.Duration
	AutoDelete  *time.Duration
	Ephemeral   bool
	Volumes     []Volume
	Snapshot    string
	Image       string
	Resources   *Resources // applied only with Image
}

// Volume is a Daytona volume to mount.
type Volume struct {
	ID, MountPath, Subpath string
}

// Resources are CPU cores and GiB of memory and disk; zero keeps
// Daytona's default.
type Resources struct {
	CPU, Memory, Disk int
}

// Mode names the creation mode, for logs: "snapshot", "image" or
// "default".
func (cs *CreateSpec) Mode() string {
	switch {
	case cs.Snapshot != "":
		return "snapshot"
	case cs.Image != "":
		return "image"
	}
	return "default"
}

// request builds the body of the request that creates the sandbox, for
// target ("" for Daytona's default), field for field as the SDK's
// Client.Create v0.173.0 builds it (pkg/daytona/client.go:378-560): the
// language as the code-toolbox-language label, public and networkBlockAll
// always sent, an ephemeral sandbox as autoDeleteInterval 0, an image as a
// one-line Dockerfile, resources only with an image.
func (cs *CreateSpec) request(target string) apiclient.CreateSandbox {
	req := apiclient.NewCreateSandbox()
	req.SetName(cs.Name)
	if cs.User != "" {
		req.SetUser(cs.User)
	}
	labels := maps.Clone(cs.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	labels[types.CodeToolboxLanguageLabel] = cs.Language
	req.SetLabels(labels)
	req.SetPublic(cs.Public)
	req.SetNetworkBlockAll(cs.BlockAll)
	if cs.AllowList != nil {
		req.SetNetworkAllowList(*cs.AllowList)
	}
	if target != "" {
		req.SetTarget(target)
	}
	cs.setIntervals(req)
	for _, v := range cs.Volumes {
		vol := apiclient.NewSandboxVolume(v.ID, v.MountPath)
		if v.Subpath != "" {
			vol.SetSubpath(v.Subpath)
		}
		req.Volumes = append(req.Volumes, *vol)
	}
	switch {
	case cs.Snapshot != "":
		req.SetSnapshot(cs.Snapshot)
	case cs.Image != "":
		req.SetBuildInfo(apiclient.CreateBuildInfo{DockerfileContent: "FROM " + cs.Image})
		cs.setResources(req)
	}
	return *req
}

// setIntervals sets the auto-stop, auto-archive and auto-delete intervals,
// in minutes.
func (cs *CreateSpec) setIntervals(req *apiclient.CreateSandbox) {
	req.SetAutoStopInterval(int32(cs.AutoStop / time.Minute))
	if cs.AutoArchive != nil {
		req.SetAutoArchiveInterval(int32(*cs.AutoArchive / time.Minute))
	}
	if cs.AutoDelete != nil {
		req.SetAutoDeleteInterval(int32(*cs.AutoDelete / time.Minute))
	}
	if cs.Ephemeral {
		req.SetAutoDeleteInterval(0)
	}
}

// setResources sets the resources that are given (Daytona applies them to
// sandboxes created from an image only).
func (cs *CreateSpec) setResources(req *apiclient.CreateSandbox) {
	r := cs.Resources
	if r == nil {
		return
	}
	if r.CPU > 0 {
		req.SetCpu(int32(r.CPU))
	}
	if r.Memory > 0 {
		req.SetMemory(int32(r.Memory))
	}
	if r.Disk > 0 {
		req.SetDisk(int32(r.Disk))
	}
}
