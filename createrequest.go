package daytona

import (
	"maps"
	"time"

	apiclient "github.com/daytonaio/daytona/libs/api-client-go"
	"github.com/daytonaio/daytona/libs/sdk-go/pkg/types"
)

// createRequest builds the body of the request that creates the remote
// sandbox, in the mode the options select, field for field as the SDK's
// Client.Create v0.173.0 builds it (pkg/daytona/client.go:378-560): the
// language as the code-toolbox-language label, public and networkBlockAll
// always sent, an ephemeral sandbox as autoDeleteInterval 0, an image as
// a one-line Dockerfile, resources only with an image.
func (s *Sandbox) createRequest(target string) apiclient.CreateSandbox {
	cfg := &s.cfg
	req := apiclient.NewCreateSandbox()
	req.SetName(cfg.name)
	if cfg.user != "" {
		req.SetUser(cfg.user)
	}
	labels := maps.Clone(cfg.labels)
	if labels == nil {
		labels = map[string]string{}
	}
	labels[labelSandboxID] = s.createLabelID()
	labels[types.CodeToolboxLanguageLabel] = string(cfg.language)
	req.SetLabels(labels)
	req.SetPublic(cfg.public != nil && *cfg.public)
	req.SetNetworkBlockAll(cfg.blockAll != nil && *cfg.blockAll)
	if cfg.allowList != nil {
		req.SetNetworkAllowList(*cfg.allowList)
	}
	if target != "" {
		req.SetTarget(target)
	}
	s.setIntervals(req)
	for _, v := range cfg.volumes {
		vol := apiclient.NewSandboxVolume(v.VolumeID, v.MountPath)
		if v.Subpath != "" {
			vol.SetSubpath(v.Subpath)
		}
		req.Volumes = append(req.Volumes, *vol)
	}
	switch {
	case cfg.snapshot != "":
		req.SetSnapshot(cfg.snapshot)
	case cfg.image != "":
		req.SetBuildInfo(apiclient.CreateBuildInfo{DockerfileContent: "FROM " + cfg.image})
		setResources(req, cfg.resources)
	}
	return *req
}

// setIntervals sets the auto-stop, auto-archive and auto-delete intervals,
// in minutes.
func (s *Sandbox) setIntervals(req *apiclient.CreateSandbox) {
	cfg := &s.cfg
	req.SetAutoStopInterval(int32(cfg.autoStop / time.Minute))
	if cfg.autoArchive != nil {
		req.SetAutoArchiveInterval(int32(*cfg.autoArchive / time.Minute))
	}
	if cfg.autoDelete != nil {
		req.SetAutoDeleteInterval(int32(*cfg.autoDelete / time.Minute))
	}
	if cfg.ephemeral {
		req.SetAutoDeleteInterval(0)
	}
}

// setResources sets the resources that are given (Daytona applies them to
// sandboxes created from an image only).
func setResources(req *apiclient.CreateSandbox, r *Resources) {
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

// creationMode names the mode, for logs.
func (s *Sandbox) creationMode() string {
	switch {
	case s.cfg.snapshot != "":
		return "snapshot"
	case s.cfg.image != "":
		return "image"
	}
	return "default"
}
