//go:build unix

package daytonatest

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// POST /sandbox, as the API creates a sandbox: its request validation
// (validation.go), the controller's checks of the creation mode
// (apps/api/src/sandbox/controllers/sandbox.controller.ts:277-311
// @v0.190.0, 291-316 @v0.173.0), then the service's checks of what the
// organization has and the record's defaults (createFromSnapshot and
// createFromBuildInfo, apps/api/src/sandbox/services/sandbox.service.ts:
// 460-731 and 850-1067 @v0.190.0).

// createRequest is the body of POST /sandbox, once validated: the values
// the server uses, by property name. As in JavaScript, a value of another
// type than expected where nothing checks it (such as a class in a version
// that has none) counts as absent.
type createRequest struct {
	strs        map[string]string  // name, snapshot, user, networkAllowList, class, target
	nums        map[string]float64 // the resources and the intervals
	bools       map[string]bool    // public, networkBlockAll
	env, labels map[string]string
	volumes     []volumeJSON
	build       *buildInfoRequest // image mode
	gpuTypes    int               // how many GPU types (0.190 on)
}

// volumeJSON is a volume mount, as requests and responses carry it.
type volumeJSON struct {
	VolumeID  string  `json:"volumeId"`
	MountPath string  `json:"mountPath"`
	Subpath   *string `json:"subpath,omitempty"`
}

type buildInfoRequest struct {
	DockerfileContent string   `json:"dockerfileContent"`
	ContextHashes     []string `json:"contextHashes"`
}

// MaxAutoArchiveInterval is the largest autoArchiveInterval, in minutes:
// 0 means it, and larger values are cut to it
// (apps/api/src/config/configuration.ts:97 @v0.190.0, :91 @v0.173.0;
// resolveAutoArchiveInterval, sandbox.service.ts:3298-3310 @v0.190.0).
const MaxAutoArchiveInterval = 43200

// Resources of a sandbox created from an image when the request gives
// none, or gives 0 (sandbox.service.ts:121-124, 860-863 @v0.190.0;
// 112-114 @v0.173.0).
const (
	DefaultImageCPU    = 1
	DefaultImageMemory = 1 // GiB
	DefaultImageDisk   = 3 // GiB
)

// perSandboxLimitMessage follows the per-sandbox refusals
// (apps/api/src/common/constants/error-messages.ts:11-12 @v0.190.0).
const perSandboxLimitMessage = "Need higher resource limits per-sandbox? Contact us at support@daytona.io and let us know about your use case."

// createProperties are the checks of CreateSandboxDto
// (apps/api/src/sandbox/dto/create-sandbox.dto.ts @v0.190.0 and
// @v0.173.0; autoPauseInterval from @daytonaio/api-client 0.220.0's
// models/create-sandbox.d.ts), in declaration order.
func (s *Server) createProperties() []property {
	p := func(name string, checks ...check) property { return property{name: name, checks: checks} }
	num := func(name string, extra ...check) property { return p(name, append(extra, isNumber)...) }
	props := []property{
		p("name", safeDisplayString, isString), p("snapshot", isString), p("user", isString),
		p("env", isObject), p("labels", isObject), p("public", isBoolean), p("networkBlockAll", isBoolean),
		p("networkAllowList", isString),
	}
	if !s.since(level0190) {
		props = append(props, p("class", enumCheck(classSmall, "medium", "large")), p("target", isString),
			num("cpu"), num("gpu"), num("memory"), num("disk"))
	} else {
		props = append(props, p("domainAllowList", isString), p("target", isString),
			num("cpu", minCheck(0)), num("gpu", maxCheck(1), minCheck(0)), p("gpuType", gpuTypeCheck),
			num("memory", minCheck(0)), num("disk", minCheck(0)))
	}
	props = append(props, num("autoStopInterval"), num("autoArchiveInterval"), num("autoDeleteInterval"),
		p("volumes", isArray), p("buildInfo", isObject))
	if s.since(levelCurrent) {
		props = append(props, num("autoPauseInterval"), num("ttlMinutes"))
	}
	return props
}

// gpuTypeCheck is gpuType's checks (create-sandbox.dto.ts:143-155
// @v0.190.0): one GPU type or a list of them, each H100 or RTX-PRO-6000
// (enums/gpu-type.enum.ts); an empty list is no list.
var gpuTypeCheck = check{func(raw json.RawMessage) bool {
	for _, v := range gpuTypes(raw) {
		var s string
		if json.Unmarshal(v, &s) != nil || (s != "H100" && s != "RTX-PRO-6000") {
			return false
		}
	}
	return true
}, "each value in %s must be one of the following values: H100, RTX-PRO-6000"}

// gpuTypes is gpuType after its @Transform: a list, or a value in one.
func gpuTypes(raw json.RawMessage) []json.RawMessage {
	var list []json.RawMessage
	switch kindOfJSON(raw) {
	case kindNull:
	case kindArray:
		_ = json.Unmarshal(raw, &list)
	default:
		list = []json.RawMessage{raw}
	}
	return list
}

// volumeProperties are the checks of each volume (SandboxVolume,
// apps/api/src/sandbox/dto/sandbox.dto.ts:16-44 @v0.190.0), which
// v0.190.0 validates (@ValidateNested) and v0.173.0 does not.
func volumeProperties(i int) []property {
	p := fmt.Sprintf("volumes.%d.", i)
	return []property{
		{name: p + "volumeId", checks: []check{isNotEmpty, isString}, required: true},
		{name: p + "mountPath", checks: []check{isString}, required: true},
		{name: p + "subpath", checks: []check{isString}},
	}
}

// parseCreate validates a create request's body; a non-empty message is
// the 400 of the validation pipe.
func (s *Server) parseCreate(raw map[string]json.RawMessage) (*createRequest, string) {
	msgs := []string{validate(raw, s.createProperties())}
	var vols []map[string]json.RawMessage
	if s.since(level0190) && kindOfJSON(raw["volumes"]) == kindArray && json.Unmarshal(raw["volumes"], &vols) == nil {
		for i, v := range vols {
			if v == nil {
				v = map[string]json.RawMessage{}
			}
			msgs = append(msgs, validate(prefixed(v, fmt.Sprintf("volumes.%d.", i)), volumeProperties(i)))
		}
	}
	if msg := joinMessages(msgs); msg != "" {
		return nil, msg
	}
	return decodeCreate(raw), ""
}

// decodeCreate takes what the server uses from a validated request.
func decodeCreate(raw map[string]json.RawMessage) *createRequest {
	req := &createRequest{
		strs: map[string]string{}, nums: map[string]float64{}, bools: map[string]bool{},
		env: stringMap(raw["env"]), labels: stringMap(raw["labels"]), gpuTypes: len(gpuTypes(raw["gpuType"])),
	}
	for name, v := range raw {
		switch kindOfJSON(v) {
		case kindString:
			var x string
			_ = json.Unmarshal(v, &x)
			req.strs[name] = x
		case kindNumber:
			var x float64
			_ = json.Unmarshal(v, &x)
			req.nums[name] = x
		case kindBool:
			req.bools[name] = string(bytes.TrimSpace(v)) == "true"
		}
	}
	_ = json.Unmarshal(raw["volumes"], &req.volumes) // a mismatch leaves what decoded
	if kindOfJSON(raw["buildInfo"]) == kindObject {
		req.build = &buildInfoRequest{}
		_ = json.Unmarshal(raw["buildInfo"], req.build)
	}
	return req
}

// prefixed returns m with prefix before each key, as nested errors name
// their properties.
func prefixed(m map[string]json.RawMessage, prefix string) map[string]json.RawMessage {
	out := make(map[string]json.RawMessage, len(m))
	for k, v := range m {
		out[prefix+k] = v
	}
	return out
}

func joinMessages(msgs []string) string {
	var out []string
	for _, m := range msgs {
		if m != "" {
			out = append(out, m)
		}
	}
	return strings.Join(out, ", ")
}

// stringMap decodes a JSON object whose values the API stores as they
// are; here each value that is not a string is kept as its JSON text.
func stringMap(raw json.RawMessage) map[string]string {
	var m map[string]json.RawMessage
	if kindOfJSON(raw) != kindObject || json.Unmarshal(raw, &m) != nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		var s string
		if json.Unmarshal(v, &s) != nil {
			s = string(v)
		}
		out[k] = s
	}
	return out
}

// checkMode is the controller's check of the creation mode
// (sandbox.controller.ts:284-302 @v0.190.0, 298-306 @v0.173.0): a
// snapshot and a build are exclusive, and a sandbox that is not built
// takes its resources from its snapshot, whatever else the request says.
func (s *Server) checkMode(req *createRequest) string {
	n := req.nums
	switch {
	case req.build != nil && req.strs["snapshot"] != "":
		return "Cannot specify a snapshot when using a build info entry"
	case req.build != nil:
		return ""
	case n["cpu"] != 0 || n["gpu"] != 0 || n["memory"] != 0 || n["disk"] != 0:
		return "Cannot specify Sandbox resources when using a snapshot"
	case s.since(level0190) && req.gpuTypes > 0:
		return "Cannot specify GPU type when creating sandbox from snapshot. GPU type is inherited from snapshot."
	}
	return ""
}

func (s *Server) handleCreate(w http.ResponseWriter, r *http.Request, body []byte) {
	raw, ok := apiObject(w, r, body)
	if !ok {
		return
	}
	req, msg := s.parseCreate(raw)
	if msg == "" {
		msg = s.checkMode(req)
	}
	if msg != "" {
		writeAPIError(w, r, http.StatusBadRequest, msg)
		return
	}
	s.mu.Lock()
	sb, aerr := s.createLocked(req)
	var dto sandboxDTO
	if aerr == nil {
		dto = s.dtoLocked(sb)
	}
	s.mu.Unlock()
	if aerr != nil {
		writeAPIError(w, r, aerr.status, aerr.msg)
		return
	}
	if req.build == nil && dto.State != string(StateStarted) {
		// The controller waits for a sandbox made from a snapshot to start,
		// then answers with the record as it was created
		// (sandbox.controller.ts:303-308 @v0.190.0, 307-312 @v0.173.0).
		if _, aerr := s.awaitStarted(r, sb, dto); aerr != nil {
			writeAPIError(w, r, aerr.status, aerr.msg)
			return
		}
	}
	writeJSON(w, http.StatusOK, dto)
}

// creation is a sandbox being created: its record, and the numbers the
// request gives, checked before they become the record's.
type creation struct {
	s   *Server
	req *createRequest
	sb  *sandbox
	// As JSON numbers, until checkColumns.
	cpu, gpu, memory, disk                       float64
	autoStop, autoArchive, autoDelete, autoPause float64
}

// createLocked makes the record the request asks for, with the API's
// checks in the API's order, and starts creating it.
func (s *Server) createLocked(req *createRequest) (*sandbox, *apiError) {
	c := &creation{s: s, req: req, sb: s.newRecord(req),
		autoStop: DefaultAutoStop, autoArchive: DefaultAutoArchive, autoDelete: DefaultAutoDelete}
	for _, step := range []func() *apiError{
		c.setRegion, c.setSource, c.checkGPU, c.checkLimits, c.setNetwork, c.setIntervals, c.setAutoPause, c.setTTL, c.checkColumns,
	} {
		if err := step(); err != nil {
			return nil, err
		}
	}
	if err := s.addLocked(c.sb); err != nil {
		return nil, err
	}
	return c.sb, nil
}

// newRecord is a sandbox record with the entity's defaults
// (apps/api/src/sandbox/entities/sandbox.entity.ts:91-228 @v0.190.0) and
// what the request sets without checks.
func (s *Server) newRecord(req *createRequest) *sandbox {
	sb := &sandbox{
		id:      newUUID(),
		user:    DefaultUser,
		env:     map[string]string{},
		labels:  map[string]string{},
		volumes: []Volume{},
		desired: "started",
		changed: make(chan struct{}),
	}
	sb.name = sb.id
	if name := req.strs["name"]; name != "" {
		sb.name = name
	}
	if user := req.strs["user"]; user != "" {
		sb.user = user
	}
	if req.env != nil {
		sb.env = req.env
	}
	if req.labels != nil {
		sb.labels = req.labels
	}
	sb.public, sb.networkBlockAll = req.bools["public"], req.bools["networkBlockAll"]
	for _, v := range req.volumes {
		vol := Volume{VolumeID: v.VolumeID, MountPath: v.MountPath}
		if v.Subpath != nil {
			vol.Subpath = *v.Subpath
		}
		sb.volumes = append(sb.volumes, vol)
	}
	return sb
}

// setRegion resolves the target: none (or blank) is the default region,
// an unknown one a 404 (getValidatedOrDefaultRegion, sandbox.service.ts:
// 2810-2835 @v0.190.0).
func (c *creation) setRegion() *apiError {
	target := strings.TrimSpace(c.req.strs["target"])
	switch {
	case target == "":
		c.sb.target = DefaultTarget
	case slices.Contains(c.s.cfg.org.regions, target):
		c.sb.target = target
	default:
		return &apiError{http.StatusNotFound, "Region not found"}
	}
	return nil
}

// setSource sets the mode and the resources: a build gets the request's
// resources (0 or none: the image defaults) and is a container; a sandbox
// from a snapshot, the snapshot's class and resources. A blank snapshot is
// the default one; one the organization does not have is a 400
// (sandbox.service.ts:466-521, 636-644, 860-863, 907-913 @v0.190.0).
func (c *creation) setSource() *apiError {
	req, sb := c.req, c.sb
	if req.build != nil {
		sb.built, sb.dockerfile, sb.contextHashes = true, req.build.DockerfileContent, req.build.ContextHashes
		c.cpu, c.gpu = cmp.Or(req.nums["cpu"], DefaultImageCPU), req.nums["gpu"]
		c.memory, c.disk = cmp.Or(req.nums["memory"], DefaultImageMemory), cmp.Or(req.nums["disk"], DefaultImageDisk)
		sb.class = c.classFor(ClassContainer)
		return nil
	}
	name := DefaultSnapshot
	if sn := req.strs["snapshot"]; strings.TrimSpace(sn) != "" {
		name = sn
	}
	sn, ok := c.s.cfg.org.snapshots[name]
	if !ok {
		return &apiError{http.StatusBadRequest, fmt.Sprintf("Snapshot %s not found. Did you add it through the Daytona Dashboard?", name)}
	}
	sn = sn.withDefaults()
	sb.snapshot = name
	c.cpu, c.gpu, c.memory, c.disk = float64(sn.CPU), float64(sn.GPU), float64(sn.Memory), float64(sn.Disk)
	sb.class = c.classFor(sn.Class)
	return nil
}

// classFor is the class of the new sandbox: before v0.190.0 the one the
// request names (small by default), since then its snapshot's.
func (c *creation) classFor(snapshotClass string) string {
	if c.s.since(level0190) {
		return snapshotClass
	}
	return cmp.Or(c.req.strs["class"], classSmall)
}

// ephemeral is isEphemeral of the request: an autoDeleteInterval of
// exactly 0 (apps/api/src/sandbox/utils/ephemeral.util.ts:6-8 @v0.190.0).
func (c *creation) ephemeral() bool {
	v, ok := c.req.nums["autoDeleteInterval"]
	return ok && v == 0
}

// checkGPU refuses a GPU sandbox that is not ephemeral
// (sandbox.service.ts:524-526, 866-868 @v0.190.0).
func (c *creation) checkGPU() *apiError {
	if c.s.since(level0190) && c.gpu > 0 && !c.ephemeral() {
		return &apiError{http.StatusBadRequest, "GPU sandboxes must be ephemeral - set autoDeleteInterval to 0"}
	}
	return nil
}

// checkLimits refuses a sandbox larger than the organization's
// per-sandbox maximums (validateOrganizationQuotas, sandbox.service.ts:
// 210-228 @v0.190.0, 180-196 @v0.173.0).
func (c *creation) checkLimits() *apiError {
	l := c.s.cfg.org.limits
	var msg string
	switch {
	case c.cpu > float64(l.CPU):
		msg = fmt.Sprintf("CPU request %s exceeds maximum allowed per sandbox (%d).", jsNumber(c.cpu), l.CPU)
	case c.memory > float64(l.Memory):
		msg = fmt.Sprintf("Memory request %sGB exceeds maximum allowed per sandbox (%dGB).", jsNumber(c.memory), l.Memory)
	case c.disk > float64(l.Disk):
		msg = fmt.Sprintf("Disk request %sGB exceeds maximum allowed per sandbox (%dGB).", jsNumber(c.disk), l.Disk)
	default:
		return nil
	}
	return &apiError{http.StatusBadRequest, msg + "\n" + perSandboxLimitMessage}
}

// setNetwork checks and sets the network allow list
// (resolveNetworkAllowList, sandbox.service.ts:3312-3319 @v0.190.0).
func (c *creation) setNetwork() *apiError {
	v, ok := c.req.strs["networkAllowList"]
	if !ok {
		return nil
	}
	if err := validateNetworkAllowList(v); err != nil {
		return &apiError{http.StatusBadRequest, err.Error()}
	}
	c.sb.networkAllowList = &v
	return nil
}

// validateNetworkAllowList is the API's check of an allow list
// (apps/api/src/sandbox/utils/network-validation.util.ts:12-38 @v0.190.0,
// the same at v0.173.0): comma-separated IPv4 networks in CIDR notation,
// empty entries skipped, at most 10 entries.
func validateNetworkAllowList(list string) error {
	networks := strings.Split(list, ",")
	for _, n := range networks {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		addr, prefix, _ := strings.Cut(n, "/")
		if ip := net.ParseIP(addr); ip == nil || ip.To4() == nil || strings.Contains(addr, ":") {
			return apiMessage(fmt.Sprintf(`Invalid IP address: "%s" in network "%s". Must be a valid IPv4 address`, addr, n))
		}
		if prefix == "" {
			return apiMessage(fmt.Sprintf(`Invalid network format: "%s". Missing CIDR prefix length (e.g., /24)`, n))
		}
		if p, ok := jsParseInt(prefix); ok && (p < 0 || p > 32) {
			return apiMessage(fmt.Sprintf("Invalid CIDR prefix length: %s. Prefix must be between 0 and 32", n))
		}
	}
	if len(networks) > 10 {
		return apiMessage("Network allow list cannot contain more than 10 networks")
	}
	return nil
}

// setIntervals checks and sets the intervals: negative auto-stop and
// auto-archive intervals are refused, an auto-archive interval of 0 is the
// maximum and larger ones are cut to it (resolveAutoStopInterval and
// resolveAutoArchiveInterval, sandbox.service.ts:3290-3310 @v0.190.0,
// 2738-2758 @v0.173.0).
func (c *creation) setIntervals() *apiError {
	if v, ok := c.req.nums["autoStopInterval"]; ok {
		if v < 0 {
			return &apiError{http.StatusBadRequest, "Auto-stop interval must be non-negative"}
		}
		c.autoStop = v
	}
	if v, ok := c.req.nums["autoArchiveInterval"]; ok {
		a, err := autoArchiveValue(v)
		if err != nil {
			return err
		}
		c.autoArchive = a
	}
	if v, ok := c.req.nums["autoDeleteInterval"]; ok {
		c.autoDelete = v
	}
	return nil
}

// autoArchiveValue is resolveAutoArchiveInterval.
func autoArchiveValue(v float64) (float64, *apiError) {
	switch {
	case v < 0:
		return 0, &apiError{http.StatusBadRequest, "Auto-archive interval must be non-negative"}
	case v == 0:
		return MaxAutoArchiveInterval, nil
	}
	return math.Min(v, MaxAutoArchiveInterval), nil
}

// checkColumns fails the insert as PostgreSQL does when a number does not
// fit its integer column (a fraction, or beyond 32 bits): the API answers
// 500 "An unexpected error occurred." for errors that are not HTTP
// exceptions (all-exceptions.filter.ts:73-78 @v0.190.0). Then the numbers
// become the record's.
func (c *creation) checkColumns() *apiError {
	nums := []float64{c.cpu, c.gpu, c.memory, c.disk, c.autoStop, c.autoArchive, c.autoDelete, c.autoPause}
	for _, v := range nums {
		if v != math.Trunc(v) || v > math.MaxInt32 || v < math.MinInt32 {
			return errUnexpected
		}
	}
	sb := c.sb
	sb.cpu, sb.gpu, sb.memory, sb.disk = int(c.cpu), int(c.gpu), int(c.memory), int(c.disk)
	sb.autoStop, sb.autoArchive, sb.autoDelete, sb.autoPause = int(c.autoStop), int(c.autoArchive), int(c.autoDelete), int(c.autoPause)
	return nil
}

// errUnexpected is the API's answer to an error that is not an HTTP
// exception, such as a failed database query.
var errUnexpected = &apiError{http.StatusInternalServerError, "An unexpected error occurred."}

// addLocked gives a new sandbox its directory and toolbox, records it and
// starts creating it. A name that is taken, or held by a destroyed
// sandbox, is a 409 (the unique index on the organization and name,
// sandbox.service.ts:711-713 @v0.190.0).
func (s *Server) addLocked(sb *sandbox) *apiError {
	_, nameTaken := s.names[sb.name]
	_, idTaken := s.sandboxes[sb.name]
	if nameTaken || idTaken || s.nameHeldLocked(sb.name) {
		return &apiError{http.StatusConflict, fmt.Sprintf("Sandbox with name %s already exists", sb.name)}
	}
	sb.dir = filepath.Join(s.root, sb.id)
	sb.home = filepath.Join(sb.dir, "home")
	if err := os.MkdirAll(sb.home, 0o755); err != nil {
		return &apiError{http.StatusInternalServerError, "failed to create sandbox directory: " + err.Error()}
	}
	now := time.Now().UTC()
	sb.createdAt, sb.updatedAt = now, now
	sb.svc.rotateToken()
	sb.tb = newToolbox(s, sb)
	s.sandboxes[sb.id] = sb
	s.names[sb.name] = sb.id
	s.transitionLocked(sb, StateCreating, "started", func() { sb.state = StateStarted })
	return nil
}

// apiMessage is an error whose text is a message of the real API, word for
// word (some start with a capital letter).
type apiMessage string

func (m apiMessage) Error() string { return string(m) }
