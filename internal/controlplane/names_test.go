package controlplane

import "testing"

// TestCheckName: the names IsSafeDisplayString refuses (HTML tags, URL
// schemes and www., control characters but tab, LF and CR), and some it
// lets through.
func TestCheckName(t *testing.T) {
	refused := []string{
		"http://x", "see HTTPS://example.com", "ftp://a", "sftp://a", "ssh://a", "wss://a", "file:///etc",
		"ldaps://a", "javascript:alert(1)", "data:text/html", "mailto:me", "tel:123", "www.example.com",
		"<b>bold</b>", "a</x", "<script", "bell\a", "nul\x00", "del\x7f", "esc\x1b[0m",
	}
	for _, name := range refused {
		if err := CheckName(name); err == nil || err.Error() != "name must not contain HTML tags, URLs, or control characters" {
			t.Errorf("CheckName(%q) = %v", name, err)
		}
	}
	for _, name := range []string{"my-sandbox", "a<1", "x < y", "tab\there", "line\nfeed", "cr\r", "web.dev", "wwwx", "émoji-🙂", "user@host"} {
		if err := CheckName(name); err != nil {
			t.Errorf("CheckName(%q) = %v; want nil", name, err)
		}
	}
}
