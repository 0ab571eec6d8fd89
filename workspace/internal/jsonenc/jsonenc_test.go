package jsonenc

import "testing"

func TestMarshalKeepsHTMLAndDropsNewline(t *testing.T) {
	got, err := Marshal(map[string]string{"a": "<b> & </b>"})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"a":"<b> & </b>"}`; string(got) != want {
		t.Errorf("Marshal = %s; want %s", got, want)
	}
	if _, err := Marshal(func() {}); err == nil {
		t.Error("Marshal of a func succeeded")
	}
}
