package zktls

import "testing"

func TestParseProperties(t *testing.T) {
	src := "# comment\n! also comment\n  a = 1\nb:2\nc 3\nd=multi \\\n    line\ne=tab\\tand\\u0041\nf\\ key=x\ng=\nh=C:\\\\path\n"
	got, err := ParseProperties(src)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a": "1", "b": "2", "c": "3", "d": "multi line", "e": "tab\tandA", "f key": "x", "g": "", "h": `C:\path`}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%q = %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d keys: %v", len(got), got)
	}
	if _, err := ParseProperties("x=\\u12"); err == nil {
		t.Error("malformed \\u escape accepted")
	}
}

func FuzzParseProperties(f *testing.F) {
	f.Add("a=b\nc:d\\\n e\n")
	f.Add("\\u0041=\\")
	f.Fuzz(func(t *testing.T, s string) { ParseProperties(s) })
}
