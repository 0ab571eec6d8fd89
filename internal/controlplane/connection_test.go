package controlplane

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzRedactURL: what RedactURL shows of a URL holds none of its user
// information, query or fragment (issue #19 item 9), and of a URL that
// does not parse, its scheme at most.
func FuzzRedactURL(f *testing.F) {
	for _, seed := range []string{
		"https://user:secret@app.daytona.io/api", "https://app.daytona.io/api?token=secret",
		"https://app.daytona.io/api#secret", "https://user:pa?ss@host/api", "https://h:99999/?t=secret",
		"https:user:secret@host", "secret", "", "https://[::1/?x=secret", "https://h/a%2Fb?x=1",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		shown := RedactURL(raw)
		u, err := url.Parse(raw)
		if err != nil || u.Opaque != "" || strings.ContainsAny(raw, "\x00\r\n") {
			if shown != "[redacted]" && !strings.HasSuffix(shown, "://[redacted]") {
				t.Fatalf("RedactURL(%q) = %q for a URL that does not parse", raw, shown)
			}
			return
		}
		visible := u.Scheme + "://" + u.Host + u.EscapedPath()
		password, _ := u.User.Password()
		for _, secret := range []string{u.User.Username(), password, u.RawQuery, u.Fragment} {
			if len(secret) >= 3 && !strings.Contains(visible, secret) && strings.Contains(shown, secret) {
				t.Fatalf("RedactURL(%q) = %q shows %q", raw, shown, secret)
			}
		}
	})
}
