package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"down"}, {"up", "--version", "3.7"}, {"up", "--client-auth", "maybe"}, {"up", "--bogus"}, {"up", "extra"}, {"up", "--"},
		{"up", "--zoo-cfg", "/nonexistent/zoo.cfg"}, {"up", "--flink-conf", "/nonexistent/flink-conf.yaml"}} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
		if errb.Len() == 0 {
			t.Errorf("%v: no message", args)
		}
	}
	var out, errb bytes.Buffer
	if code := run([]string{"up", "--help"}, &out, &errb); code != 0 || !strings.Contains(errb.String(), "--enforce-sasl") {
		t.Errorf("--help: exit %d, %q", code, errb.String())
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{"/tmp/a-b_c.d": "/tmp/a-b_c.d", "a b": "'a b'", "it's": `'it'\''s'`, "": "''", "localhost:1,localhost:2": "localhost:1,localhost:2"} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}
