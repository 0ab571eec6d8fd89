package controlplane

// Records of remote sandboxes, for code that manages many of them without
// a start (the root's Client, and Sandbox.Refresh, SetLabels and
// Archive): looking one up, listing them by labels, creating one,
// replacing its labels, archiving it.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"time"

	apiclient "github.com/daytonaio/daytona/libs/api-client-go"
	sdk "github.com/daytonaio/daytona/libs/sdk-go/pkg/daytona"
	sdkerrors "github.com/daytonaio/daytona/libs/sdk-go/pkg/errors"
	"github.com/daytonaio/daytona/libs/sdk-go/pkg/types"

	"github.com/agentworkspace/daytona/internal/apierr"
	"github.com/agentworkspace/daytona/internal/fault"
	"github.com/agentworkspace/daytona/internal/retry"
)

// Record is Daytona's record of a remote sandbox, as the root's
// RemoteSandbox reports it (the same fields, in the same order, so that
// one converts to the other).
type Record struct {
	ID, Name, State                      string
	Labels                               map[string]string // never nil
	ErrorReason                          string
	CreatedAt, UpdatedAt, LastActivityAt time.Time // zero when not reported
}

// Running reports whether state is started.
func Running(state string) bool { return state == string(apiclient.SANDBOXSTATE_STARTED) }

// Parked reports whether state is stopped or archived: the files are
// kept, and a start brings the sandbox back.
func Parked(state string) bool {
	return state == string(apiclient.SANDBOXSTATE_STOPPED) || state == string(apiclient.SANDBOXSTATE_ARCHIVED)
}

// Dead reports whether state is one in which a sandbox cannot be used
// again: destroyed, being destroyed, or an error.
func Dead(state string) bool { return deadState(apiclient.SandboxState(state)) }

// recordJSON is a sandbox as the control plane sends it, in the list and
// in single records; only the fields Record keeps.
type recordJSON struct {
	ID             string            `json:"id"`
	Name           string            `json:"name"`
	State          string            `json:"state"`
	Labels         map[string]string `json:"labels"`
	ErrorReason    *string           `json:"errorReason"`
	CreatedAt      string            `json:"createdAt"`
	UpdatedAt      string            `json:"updatedAt"`
	LastActivityAt string            `json:"lastActivityAt"`
}

func (j *recordJSON) record() Record {
	r := Record{ID: j.ID, Name: j.Name, State: j.State, Labels: j.Labels}
	if r.Labels == nil {
		r.Labels = map[string]string{}
	}
	if j.ErrorReason != nil {
		r.ErrorReason = *j.ErrorReason
	}
	r.CreatedAt, r.UpdatedAt, r.LastActivityAt = parseTime(j.CreatedAt), parseTime(j.UpdatedAt), parseTime(j.LastActivityAt)
	return r
}

// recordOf copies a record of the generated client.
func recordOf(rec *apiclient.Sandbox) *Record {
	j := recordJSON{
		ID: rec.GetId(), Name: rec.GetName(), State: string(rec.GetState()), Labels: rec.GetLabels(),
		ErrorReason: rec.ErrorReason, CreatedAt: rec.GetCreatedAt(), UpdatedAt: rec.GetUpdatedAt(),
		LastActivityAt: rec.GetLastActivityAt(),
	}
	r := j.record()
	return &r
}

func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

// Lookup returns the record of the sandbox with this id or name (one
// request, repeated only on transient failures).
func (c *Client) Lookup(ctx context.Context, idOrName string) (*Record, error) {
	rec, err := c.record(ctx, idOrName)
	if err != nil {
		return nil, err
	}
	return recordOf(rec), nil
}

// Create creates the remote sandbox cs describes (the create request sent
// once, and again only after a 429, which refused it: a lost answer is an
// error, as the name may be another caller's by then) and waits until it
// runs, without the rest of a start.
func (c *Client) Create(ctx context.Context, cs *CreateSpec) (*Record, error) {
	rec, err := c.create(ctx, cs, false, false)
	if err != nil {
		return nil, err
	}
	return recordOf(rec), nil
}

// ReplaceLabels replaces the labels of the sandbox id with labels, plus
// the labels kept on every sandbox: logicalID's and language's, which win
// (one request, repeated only on transient failures).
func (c *Client) ReplaceLabels(ctx context.Context, id string, labels map[string]string, logicalID, language string) error {
	all := maps.Clone(labels)
	if all == nil {
		all = map[string]string{}
	}
	all[LabelSandboxID] = logicalID
	all[types.CodeToolboxLanguageLabel] = language
	return apierr.Safe(ctx, func() error {
		_, resp, err := c.api.SandboxAPI.ReplaceLabels(c.auth(ctx), id).SandboxLabels(*apiclient.NewSandboxLabels(all)).Execute()
		return convert(err, resp)
	})
}

// Gone reports Archive's error for a sandbox that disappeared while it
// waited.
func Gone(err error) bool { return errors.Is(err, errGone) }

// Archive archives the stopped sandbox id and waits until it is archived,
// retrying while Daytona reports a state change in progress. A sandbox
// archived already counts as success.
func (c *Client) Archive(ctx context.Context, id string) error {
	b := retry.Backoff{Next: startBackoffMin, Max: startBackoffMax}
	for {
		_, resp, err := c.api.SandboxAPI.ArchiveSandbox(c.auth(ctx), id).Execute()
		err = convert(err, resp)
		if err != nil && stateChangeInProgress(err) {
			if werr := b.Wait(ctx); werr != nil {
				return err
			}
			continue
		}
		if err != nil {
			// Daytona archives only stopped sandboxes: one that is
			// archived already is refused (400), and is what we want.
			if rec, rerr := c.record(ctx, id); rerr == nil && rec.GetState() == apiclient.SANDBOXSTATE_ARCHIVED {
				return nil
			}
			return err
		}
		rec, err := c.waitState(ctx, id)
		if err != nil {
			return err
		}
		if st := rec.GetState(); st != apiclient.SANDBOXSTATE_ARCHIVED {
			return fmt.Errorf("the sandbox is %s, not archived", st)
		}
		return nil
	}
}

// listPageLimit bounds how many pages List follows (100 sandboxes each in
// the current API), so that a cursor that never ends cannot loop forever.
const listPageLimit = 1000

// List returns the records of the sandboxes that carry all of labels (all
// sandboxes if labels is empty), following the pages of the answer. Its
// errors are wrapped ("list sandboxes").
func (c *Client) List(ctx context.Context, labels map[string]string) ([]Record, error) {
	q := url.Values{}
	if len(labels) > 0 {
		b, _ := json.Marshal(labels) // a map of strings always encodes
		q.Set("labels", string(b))
	}
	var out []Record
	for range listPageLimit {
		page, next, err := c.listPage(ctx, q)
		if err != nil {
			return nil, fault.WrapCtx(ctx, "list sandboxes", err)
		}
		out = append(out, page...)
		if next == "" || next == q.Get("cursor") {
			return out, nil
		}
		q.Set("cursor", next)
	}
	return nil, fault.Wrap("list sandboxes", fmt.Errorf("more than %d pages", listPageLimit))
}

// listPage fetches one page of GET /sandbox with query q and returns its
// sandboxes and the cursor of the next page ("" if none). It reads both
// shapes of the answer: an array (the API of SDK v0.173) and {items,
// nextCursor} (since v0.190).
func (c *Client) listPage(ctx context.Context, q url.Values) (page []Record, next string, err error) {
	var body []byte
	err = apierr.Safe(ctx, func() error {
		var rerr error
		body, rerr = c.getJSON(ctx, "/sandbox", q)
		return rerr
	})
	if err != nil {
		return nil, "", err
	}
	var items []recordJSON
	switch trimmed := bytes.TrimSpace(body); {
	case len(trimmed) > 0 && trimmed[0] == '[':
		err = json.Unmarshal(trimmed, &items)
	default:
		var paged struct {
			Items      []recordJSON `json:"items"`
			NextCursor *string      `json:"nextCursor"`
		}
		err = json.Unmarshal(trimmed, &paged)
		items = paged.Items
		if paged.NextCursor != nil {
			next = *paged.NextCursor
		}
	}
	if err != nil {
		return nil, "", fmt.Errorf("decode the list of sandboxes: %w", err)
	}
	page = make([]Record, len(items))
	for i := range items {
		page[i] = items[i].record()
	}
	return page, next, nil
}

// maxControlAnswer bounds the answer getJSON reads (a page of 100 sandbox
// records is some 200 KiB).
const maxControlAnswer = 64 << 20

// getJSON sends GET {apiURL}{path}?{q} with the SDK's headers and returns
// the body of a successful answer; an error answer becomes the SDK's error
// types, as the generated client's do.
func (c *Client) getJSON(ctx context.Context, path string, q url.Values) ([]byte, error) {
	u := c.conn.APIURL + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token())
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "sdk-go/"+sdk.Version)
	for k, v := range sdkHeaders(c.conn) {
		req.Header.Set(k, v)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, sdkerrors.NewDaytonaError(err.Error(), 0, nil)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxControlAnswer))
	if resp.StatusCode >= 300 {
		if len(bytes.TrimSpace(data)) == 0 {
			data = []byte(resp.Status)
		}
		return nil, apierr.FromBody(resp.StatusCode, resp.Header, data)
	}
	if err != nil {
		return nil, sdkerrors.NewDaytonaError(err.Error(), 0, nil)
	}
	return data, nil
}
