package toolbox

import (
	"io/fs"
	"testing"
	"time"
)

// TestDecodeInfoTolerant: the keys daemons from v0.184.0 add, sizes
// beyond 32 bits, unknown keys, and the modTime layout of every version.
func TestDecodeInfoTolerant(t *testing.T) {
	fi, err := DecodeInfo([]byte(`{"name":"big.bin","size":5368709120,"mode":"-rw-r-----","modTime":"2026-12-02 06:52:30.143486195 +0000 UTC",` +
		`"modifiedAt":"2026-12-02T06:52:31.5Z","isDir":false,"owner":"1000","group":"1001","permissions":"0640","future":{"x":1}}`))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Name != "big.bin" || fi.Size != 5<<30 || fi.Mode != 0o640 || fi.Mode.IsDir() {
		t.Errorf("got %s %d %v %v", fi.Name, fi.Size, fi.Mode, fi.Mode.IsDir())
	}
	if want := time.Date(2026, 12, 2, 6, 52, 31, 5e8, time.UTC); !fi.ModTime.Equal(want) {
		t.Errorf("ModTime = %v; want modifiedAt's %v", fi.ModTime, want)
	}
	if fi.Owner != "1000" || fi.Group != "1001" {
		t.Errorf("Owner, Group = %q, %q", fi.Owner, fi.Group)
	}

	fi, err = DecodeInfo([]byte(`{"name":"d","size":4096,"mode":"dtrwxrwxrwx","modTime":"2026-12-02 15:52:30.1 +0900 JST","isDir":true}`))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode != fs.ModeDir|fs.ModeSticky|0o777 || !fi.Mode.IsDir() {
		t.Errorf("Mode = %v", fi.Mode)
	}
	if want := time.Date(2026, 12, 2, 6, 52, 30, 1e8, time.UTC); !fi.ModTime.Equal(want) {
		t.Errorf("ModTime = %v; want %v", fi.ModTime, want)
	}

	// A mode string it cannot read: the octal permissions and isDir.
	fi, err = DecodeInfo([]byte(`{"name":"x","size":1,"mode":"weird","permissions":"0751","isDir":true}`))
	if err != nil || fi.Mode != fs.ModeDir|0o751 || !fi.ModTime.IsZero() {
		t.Errorf("fallback: %v %v %v", fi.Mode, fi.ModTime, err)
	}

	// A link described as a link (issue #19 item 4): reported as one, not
	// as the directory it points to.
	fi, err = DecodeInfo([]byte(`{"name":"self","size":1,"mode":"Lrwxrwxrwx","isDir":true,"permissions":"0777"}`))
	if err != nil || fi.Mode != fs.ModeSymlink|0o777 || fi.Mode.IsDir() {
		t.Errorf("link: %v %v", fi.Mode, err)
	}

	infos, err := DecodeInfos([]byte(`[{"name":"a","size":1},{"name":"b","size":2,"modifiedAt":"bad"}]`))
	if err != nil || len(infos) != 2 || infos[1].Size != 2 {
		t.Errorf("decodeInfos: %v %v", infos, err)
	}
	for _, bad := range []string{`{"size":-1}`, `{"size":1.5}`, `{"size":"x"}`, `[`, `{"name":3}`} {
		if _, err := DecodeInfo([]byte(bad)); err == nil {
			t.Errorf("DecodeInfo(%s) succeeded", bad)
		}
	}
}

// TestParseFileMode: every type and special bit, and what is not a mode.
func TestParseFileMode(t *testing.T) {
	for _, m := range []fs.FileMode{0, 0o644, 0o7777 & fs.ModePerm, fs.ModeDir | 0o755, fs.ModeSymlink | 0o777,
		fs.ModeDevice | fs.ModeCharDevice | 0o666, fs.ModeNamedPipe, fs.ModeSocket, fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky | 0o755,
		fs.ModeAppend | fs.ModeExclusive | fs.ModeTemporary | fs.ModeIrregular} {
		got, ok := parseFileMode(m.String())
		if !ok || got != m {
			t.Errorf("parseFileMode(%q) = %v, %v; want %v", m.String(), got, ok, m)
		}
	}
	for _, s := range []string{"", "rwxrwxrwx", "-rwxrwxrwxx", "xrwxrwxrwx", "-rwxrwxrwz", "ddrwxrwxrwx", "adrwxrwxrwx"} {
		if _, ok := parseFileMode(s); ok {
			t.Errorf("parseFileMode(%q) succeeded", s)
		}
	}
}

// FuzzParseFileMode: never a panic; a mode it reads prints back the same.
func FuzzParseFileMode(f *testing.F) {
	for _, s := range []string{"-rw-r--r--", "drwxr-xr-x", "dtrwxrwxrwx", "Dcrw-rw-rw-", "urwxr-xr-x", "?---------"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, ok := parseFileMode(s)
		if ok && m.String() != s {
			t.Errorf("parseFileMode(%q) = %v, which prints as %q", s, m, m.String())
		}
	})
}

// FuzzDecodeInfo: never a panic, whatever the toolbox sends; a decoded
// size is never negative.
func FuzzDecodeInfo(f *testing.F) {
	f.Add([]byte(`{"name":"a","size":3,"mode":"-rw-r--r--","modTime":"2026-12-02 06:52:30 +0000 UTC","isDir":false,"owner":"0","group":"0","permissions":"0644"}`))
	f.Add([]byte(`{"name":"d","size":4096,"mode":"drwxr-xr-x","modifiedAt":"2026-12-02T06:52:30Z","isDir":true}`))
	f.Add([]byte(`[{"name":"a"}]`))
	f.Add([]byte(`{"size":1e400}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		fi, err := DecodeInfo(data)
		if err == nil && fi.Size < 0 {
			t.Errorf("DecodeInfo(%q) = size %d, mode %v, isDir %v", data, fi.Size, fi.Mode, fi.Mode.IsDir())
		}
		_, _ = DecodeInfos(data)
		_ = parseModTime(string(data), string(data))
	})
}
