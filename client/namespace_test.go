package client

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestNamespaceMapsAndRefusesEscapes(t *testing.T) {
	n := namespace{base: "/flink/default"}
	for in, want := range map[string]string{"/": "/flink/default", "/leader": "/flink/default/leader", "/a/b.c/..d": "/flink/default/a/b.c/..d", "/jobs/é-ü": "/flink/default/jobs/é-ü"} {
		got, err := n.full(in)
		if err != nil || got != want {
			t.Errorf("full(%q) = %q, %v; want %q", in, got, err, want)
		}
		if back := n.rel(got); back != in {
			t.Errorf("rel(%q) = %q, want %q", got, back, in)
		}
	}
	for _, bad := range []string{"", "leader", "/..", "/a/../../b", "/a/./b", "/a//b", "/a/", "/a\x00b", "/a\nb", "/a\x7fb", "/a\u0085b", "/a/\uffffb", "/a/../b\x01"} {
		if _, err := n.full(bad); !errors.Is(err, ErrPath) {
			t.Errorf("full(%q) = %v, want ErrPath", bad, err)
		}
	}
	if n.rel("/flink/defaultx/y") != "" || n.rel("/other") != "" {
		t.Error("rel accepted a path outside the namespace")
	}
	if got := n.chain(); !slices.Equal(got, []string{"/flink", "/flink/default"}) {
		t.Errorf("chain = %v", got)
	}
}

func TestValidateNamesTheField(t *testing.T) {
	ok := Config{Members: []string{"zk1:2181", "zk2"}}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for field, c := range map[string]Config{
		"Members":           {},
		"Members ":          {Members: []string{"zk1:2181", "zk1:2181"}},
		"Members  ":         {Members: []string{"zk1:99999"}},
		"Root":              {Members: []string{"zk1"}, Root: "flink"},
		"ClusterID":         {Members: []string{"zk1"}, ClusterID: "/a/../b"},
		"SessionTimeout":    {Members: []string{"zk1"}, SessionTimeout: 10},
		"ConnectionTimeout": {Members: []string{"zk1"}, ConnectionTimeout: -1},
		"Transport":         {Members: []string{"zk1"}, Transport: "ssl"},
		"SASL":              {Members: []string{"zk1"}, SASL: "gssapi"},
	} {
		err := c.Validate()
		if !errors.Is(err, ErrConfig) || !containsField(err.Error(), field) {
			t.Errorf("%s: %v", field, err)
		}
	}
}

func containsField(msg, field string) bool {
	return strings.Contains(msg, ": "+strings.TrimSpace(field)+": ")
}
