package workspace

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// Mounter is the optional capability of sandboxes that mount cloud
// storage (an S3-compatible bucket, a Google Cloud Storage bucket, an
// Azure Blob container) at a directory, so that an agent's commands see
// its objects as files. Discover it with a type assertion:
//
//	if m, ok := sb.(workspace.Mounter); ok {
//		err := m.Mount(ctx, "/data", workspace.MountSpec{Type: workspace.MountS3, ...})
//	}
//
// Mounts are listed in Info.Mounts.
type Mounter interface {
	// Mount mounts the storage spec describes at path, an absolute
	// directory that is missing or empty, starting the sandbox if needed.
	// Mounting again what is mounted there already does nothing; mounting
	// something else there replaces it. An invalid path or spec (see
	// MountSpec.Resolved) is an error before any request, and a failed
	// mount leaves no credentials behind in the sandbox.
	Mount(ctx context.Context, path string, spec MountSpec) error
	// Unmount unmounts path and removes what Mount wrote for it. Unmounting
	// a path that is not mounted succeeds.
	Unmount(ctx context.Context, path string) error
}

// Storage types of MountSpec.Type, the names Mastra's mount configurations
// use.
const (
	MountS3        = "s3"         // AWS S3 or an S3-compatible service (Cloudflare R2, MinIO, ...)
	MountGCS       = "gcs"        // Google Cloud Storage
	MountAzureBlob = "azure-blob" // Azure Blob Storage
)

// MountSpec describes cloud storage to mount. Type selects the storage;
// each field says which types use it, and setting a field another type
// uses is an error. Its JSON encoding is the shape of Mastra's mount
// configurations (DaytonaS3MountConfig, ...), so the same configuration
// serves Go and TypeScript services.
//
// The credential fields are secrets: String and GoString leave them out,
// so that printing a MountSpec does not leak them, but its JSON encoding
// holds them.
type MountSpec struct {
	// Type is MountS3, MountGCS or MountAzureBlob.
	Type string `json:"type"`
	// Bucket is the bucket (s3, gcs).
	Bucket string `json:"bucket,omitempty"`
	// Container is the container (azure-blob).
	Container string `json:"container,omitempty"`
	// Prefix, if set, mounts only the objects under this prefix (a
	// "directory" of the bucket or container), which then appear at the
	// mount path's root (all types). Leading and trailing slashes are
	// ignored; "." and ".." segments, empty segments and control
	// characters are errors.
	Prefix string `json:"prefix,omitempty"`
	// ReadOnly mounts the storage read-only (all types).
	ReadOnly bool `json:"readOnly,omitempty"`
	// Region is the bucket's region (s3), such as "us-east-1"; "auto"
	// for R2.
	Region string `json:"region,omitempty"`
	// Endpoint is the service's URL (all types): an S3-compatible
	// service's (R2, MinIO), a GCS custom endpoint, an Azure Blob
	// endpoint other than https://<account>.blob.core.windows.net.
	Endpoint string `json:"endpoint,omitempty"`
	// AccessKeyID and SecretAccessKey are an S3 key pair (s3).
	AccessKeyID     string `json:"accessKeyId,omitempty"`
	SecretAccessKey string `json:"secretAccessKey,omitempty"`
	// ServiceAccountKey is a service account's JSON key (gcs).
	ServiceAccountKey string `json:"serviceAccountKey,omitempty"`
	// AccountName is the storage account (azure-blob); it may come from
	// ConnectionString instead.
	AccountName string `json:"accountName,omitempty"`
	// AccountKey, SASToken, ConnectionString and UseDefaultCredential are
	// the ways to authenticate to Azure (azure-blob): an account key, a
	// shared access signature, a connection string holding one of them,
	// or the sandbox's managed identity. Explicit fields win over the
	// connection string's.
	AccountKey           string `json:"accountKey,omitempty"`
	SASToken             string `json:"sasToken,omitempty"`
	ConnectionString     string `json:"connectionString,omitempty"`
	UseDefaultCredential bool   `json:"useDefaultCredential,omitempty"`
	// Public mounts a public bucket without credentials (s3 on AWS, gcs).
	// It must be said: a spec without credentials is otherwise an error,
	// so that forgotten credentials are not mistaken for a public bucket.
	Public bool `json:"public,omitempty"`
}

// String describes the spec without its credentials, such as
// "s3 bucket my-bucket prefix ws/data (read-only)".
func (s MountSpec) String() string {
	var b strings.Builder
	b.WriteString(s.Type)
	switch {
	case s.Container != "":
		b.WriteString(" container " + s.Container)
	case s.Bucket != "":
		b.WriteString(" bucket " + s.Bucket)
	}
	if s.Prefix != "" {
		b.WriteString(" prefix " + s.Prefix)
	}
	if s.Endpoint != "" {
		b.WriteString(" at " + s.Endpoint)
	}
	if s.ReadOnly {
		b.WriteString(" (read-only)")
	}
	return b.String()
}

// GoString is String, so that %#v does not print the credentials either.
func (s MountSpec) GoString() string { return "workspace.MountSpec{" + s.String() + "}" }

// Format prints the spec as String does (GoString for %#v) whatever the
// verb, so that no verb (%d, %x, ...) reaches the credentials.
func (s MountSpec) Format(f fmt.State, verb rune) { formatAs(f, verb, s.String(), s.GoString()) }

// LogValue makes slog print the spec as String does: its JSON handler
// would otherwise print every field, credentials included.
func (s MountSpec) LogValue() slog.Value { return slog.StringValue(s.String()) }

// Secrets returns the spec's credentials that are set, for redaction.
func (s MountSpec) Secrets() []string {
	var out []string
	for _, v := range []string{s.AccessKeyID, s.SecretAccessKey, s.ServiceAccountKey, s.AccountKey, s.SASToken, s.ConnectionString} {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

var (
	// s3Bucket is the S3 bucket naming rule (also R2's and MinIO's).
	s3Bucket = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	// gcsBucket is the GCS rule for bucket names without dots' extra
	// length (up to 63 characters).
	gcsBucket = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$`)
	// azureContainer is the Azure container naming rule, consecutive
	// hyphens aside (checked separately).
	azureContainer = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`)
	// azureAccount is the Azure storage account naming rule.
	azureAccount = regexp.MustCompile(`^[a-z0-9]{3,24}$`)
)

// Resolved checks the spec and returns it normalized: Prefix without
// leading and trailing slashes, Endpoint without a trailing slash, and
// for azure-blob the connection string's account, key, signature and
// endpoint filled into the fields left empty. The error (which never
// holds a credential) says what is wrong: an unknown Type, a field of
// another type, a bad name, prefix or endpoint, or missing or incomplete
// credentials.
func (s MountSpec) Resolved() (MountSpec, error) {
	if err := s.checkFields(); err != nil {
		return MountSpec{}, err
	}
	var err error
	if s.Prefix, err = NormalizePrefix(s.Prefix); err != nil {
		return MountSpec{}, err
	}
	if s.Endpoint != "" {
		if s.Endpoint, err = checkEndpoint(s.Endpoint); err != nil {
			return MountSpec{}, err
		}
	}
	switch s.Type {
	case MountS3:
		err = s.checkS3()
	case MountGCS:
		err = s.checkGCS()
	default:
		s, err = s.resolveAzure()
	}
	if err != nil {
		return MountSpec{}, err
	}
	return s, nil
}

// checkFields rejects an unknown type and fields that belong to another
// type.
func (s MountSpec) checkFields() error {
	uses := map[string][]string{
		MountS3:        {"Bucket", "Region", "AccessKeyID", "SecretAccessKey", "Public"},
		MountGCS:       {"Bucket", "ServiceAccountKey", "Public"},
		MountAzureBlob: {"Container", "AccountName", "AccountKey", "SASToken", "ConnectionString", "UseDefaultCredential"},
	}
	own, ok := uses[s.Type]
	if !ok {
		return fmt.Errorf("unknown mount type %q: want %q, %q or %q", s.Type, MountS3, MountGCS, MountAzureBlob)
	}
	set := map[string]bool{
		"Bucket": s.Bucket != "", "Container": s.Container != "", "Region": s.Region != "",
		"AccessKeyID": s.AccessKeyID != "", "SecretAccessKey": s.SecretAccessKey != "",
		"ServiceAccountKey": s.ServiceAccountKey != "", "AccountName": s.AccountName != "",
		"AccountKey": s.AccountKey != "", "SASToken": s.SASToken != "", "ConnectionString": s.ConnectionString != "",
		"UseDefaultCredential": s.UseDefaultCredential, "Public": s.Public,
	}
	for _, field := range []string{"Bucket", "Container", "Region", "AccessKeyID", "SecretAccessKey", "ServiceAccountKey",
		"AccountName", "AccountKey", "SASToken", "ConnectionString", "UseDefaultCredential", "Public"} {
		if set[field] && !slices.Contains(own, field) {
			return fmt.Errorf("%s mount: %s is not used by this type", s.Type, field)
		}
	}
	return nil
}

// NormalizePrefix returns prefix without leading and trailing slashes,
// or an error for "." and ".." segments, empty segments ("a//b") and
// control characters. An empty result means the whole bucket.
func NormalizePrefix(prefix string) (string, error) {
	p := strings.Trim(prefix, "/")
	if p == "" {
		return "", nil
	}
	if strings.ContainsFunc(p, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "", fmt.Errorf("invalid mount prefix %q: control characters are not allowed", prefix)
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return "", fmt.Errorf("invalid mount prefix %q: empty, \".\" and \"..\" segments are not allowed", prefix)
		}
	}
	return p, nil
}

// checkEndpoint checks an http(s) URL without credentials, query or
// fragment, and returns it without a trailing slash.
func checkEndpoint(endpoint string) (string, error) {
	u, err := url.Parse(endpoint)
	switch {
	case err != nil || u.Host == "":
		return "", fmt.Errorf("invalid mount endpoint %q: not an absolute URL", endpoint)
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("invalid mount endpoint %q: the scheme must be http or https", endpoint)
	case u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return "", errors.New("invalid mount endpoint: it must not hold credentials, a query or a fragment")
	}
	return strings.TrimRight(endpoint, "/"), nil
}

func (s MountSpec) checkS3() error {
	switch {
	case !s3Bucket.MatchString(s.Bucket):
		return fmt.Errorf("s3 mount: invalid bucket name %q: 3-63 lowercase letters, digits, dots and hyphens", s.Bucket)
	case (s.AccessKeyID == "") != (s.SecretAccessKey == ""):
		return errors.New("s3 mount: AccessKeyID and SecretAccessKey must be given together")
	case s.AccessKeyID != "" && s.Public:
		return errors.New("s3 mount: Public is for mounting without credentials, and credentials are given")
	case s.AccessKeyID == "" && !s.Public:
		return errors.New("s3 mount: missing credentials: set AccessKeyID and SecretAccessKey (or Public for a public AWS bucket)")
	case s.Public && s.Endpoint != "":
		return errors.New("s3 mount: Public works for public AWS buckets only; S3-compatible services (R2, MinIO, ...) need AccessKeyID and SecretAccessKey")
	}
	return nil
}

func (s MountSpec) checkGCS() error {
	switch {
	case !gcsBucket.MatchString(s.Bucket):
		return fmt.Errorf("gcs mount: invalid bucket name %q: 3-63 lowercase letters, digits, dots, hyphens and underscores", s.Bucket)
	case s.ServiceAccountKey != "" && s.Public:
		return errors.New("gcs mount: Public is for mounting without credentials, and a ServiceAccountKey is given")
	case s.ServiceAccountKey == "" && !s.Public:
		return errors.New("gcs mount: missing credentials: set ServiceAccountKey (or Public for a public bucket)")
	case s.ServiceAccountKey != "":
		var key map[string]any
		if json.Unmarshal([]byte(s.ServiceAccountKey), &key) != nil {
			return errors.New("gcs mount: ServiceAccountKey is not a JSON object (want the service account's JSON key file)")
		}
	}
	return nil
}

// resolveAzure fills the fields the connection string gives and checks
// the result.
func (s MountSpec) resolveAzure() (MountSpec, error) {
	if !azureContainer.MatchString(s.Container) || strings.Contains(s.Container, "--") {
		return s, fmt.Errorf("azure-blob mount: invalid container name %q: 3-63 lowercase letters, digits and single hyphens", s.Container)
	}
	if s.ConnectionString != "" {
		cs, err := parseConnectionString(s.ConnectionString)
		if err != nil {
			return s, err
		}
		s.AccountName = first(s.AccountName, cs["AccountName"])
		s.AccountKey = first(s.AccountKey, cs["AccountKey"])
		s.SASToken = first(s.SASToken, cs["SharedAccessSignature"])
		if s.Endpoint == "" {
			s.Endpoint = azureEndpoint(cs)
		}
	}
	switch {
	case s.AccountName == "":
		return s, errors.New("azure-blob mount: missing AccountName (give it, or a ConnectionString with one)")
	case !azureAccount.MatchString(s.AccountName):
		return s, fmt.Errorf("azure-blob mount: invalid account name %q: 3-24 lowercase letters and digits", s.AccountName)
	case !s.UseDefaultCredential && s.AccountKey == "" && s.SASToken == "":
		return s, errors.New("azure-blob mount: missing credentials: give AccountKey, SASToken or a ConnectionString with one, or set UseDefaultCredential")
	}
	if s.Endpoint != "" {
		var err error
		if s.Endpoint, err = checkEndpoint(s.Endpoint); err != nil {
			return s, err
		}
	}
	s.SASToken = strings.TrimPrefix(s.SASToken, "?")
	return s, nil
}

func first(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// parseConnectionString parses an Azure storage connection string:
// key=value pairs separated by semicolons.
func parseConnectionString(cs string) (map[string]string, error) {
	out := map[string]string{}
	for _, part := range strings.Split(cs, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, errors.New("azure-blob mount: ConnectionString is not a list of key=value pairs separated by semicolons")
		}
		if v = strings.TrimSpace(v); v != "" {
			out[strings.TrimSpace(k)] = v
		}
	}
	return out, nil
}

// azureEndpoint is the blob endpoint a connection string names or
// implies ("" for the default, https://<account>.blob.core.windows.net).
func azureEndpoint(cs map[string]string) string {
	if e := cs["BlobEndpoint"]; e != "" {
		return e
	}
	suffix, proto := cs["EndpointSuffix"], cs["DefaultEndpointsProtocol"]
	if (suffix == "" && proto == "") || cs["AccountName"] == "" {
		return ""
	}
	return first(proto, "https") + "://" + cs["AccountName"] + ".blob." + first(suffix, "core.windows.net")
}
