package pool

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"strconv"
	"strings"
	"time"
)

// What the Pool writes on its sandboxes. Daytona's names and labels are
// the only state the replicas of a service share: a key's sandbox is found
// by its name (strongly consistent: GET /sandbox/{name}) or by its labels
// (the list, eventually consistent).
const (
	labelPool    = "daytona-pool"         // the pool's name
	labelRole    = "daytona-pool-role"    // roleKey or roleSpare
	labelKey     = "daytona-pool-key"     // the key's hash (roleKey)
	labelClaim   = "daytona-pool-claim"   // claimPending or claimOK (roleKey)
	labelToken   = "daytona-pool-token"   // "<unix ms>-<replica>-<random>": who claimed, when
	labelReplica = "daytona-pool-replica" // the replica that made or claimed it

	roleKey   = "key"
	roleSpare = "spare"

	claimPending = "pending"
	claimOK      = "ok"
)

// hashLen is how many hex digits of SHA-256 name a key (128 bits): keys
// (user ids, e-mail addresses) never appear in a name, a label or a log.
const hashLen = 32

// hashKey returns the hash that stands for key in this pool.
func (p *Pool) hashKey(key string) string {
	h := sha256.New()
	h.Write([]byte(p.cfg.name))
	h.Write([]byte{0})
	h.Write([]byte(key))
	return hex.EncodeToString(h.Sum(nil))[:hashLen]
}

// keyName is the name of the sandbox created for the key with hash h.
func (p *Pool) keyName(h string) string { return p.cfg.name + "-" + h[:20] }

// spareName is a fresh name for a spare.
func (p *Pool) spareName() string { return p.cfg.name + "-s-" + randomID(12) }

// randomID returns n random base-36 characters.
func randomID(n int) string {
	const alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// newToken returns a claim token: the wall-clock time (for staleness,
// across replicas), the replica, and a random part.
func (p *Pool) newToken() string {
	return strconv.FormatInt(time.Now().UnixMilli(), 10) + "-" + p.cfg.replica + "-" + randomID(8)
}

// tokenTime reads the time of a claim token (zero if it has none).
func tokenTime(tok string) time.Time {
	ms, _, ok := strings.Cut(tok, "-")
	if !ok {
		return time.Time{}
	}
	n, err := strconv.ParseInt(ms, 10, 64)
	if err != nil {
		return time.Time{}
	}
	return time.UnixMilli(n)
}

// baseLabels returns the user's labels and the pool's name.
func (p *Pool) baseLabels() map[string]string {
	l := maps.Clone(p.cfg.labels)
	if l == nil {
		l = map[string]string{}
	}
	l[labelPool] = p.cfg.name
	return l
}

// spareLabels are the labels of a spare of this replica.
func (p *Pool) spareLabels() map[string]string {
	l := p.baseLabels()
	l[labelRole] = roleSpare
	l[labelReplica] = p.cfg.replica
	return l
}

// keyLabels are the labels of the sandbox of the key with hash h, claimed
// with token tok; claim is claimPending or claimOK.
func (p *Pool) keyLabels(h, tok, claim string) map[string]string {
	l := p.baseLabels()
	l[labelRole] = roleKey
	l[labelKey] = h
	l[labelClaim] = claim
	l[labelToken] = tok
	l[labelReplica] = p.cfg.replica
	return l
}
