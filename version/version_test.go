package version

import (
	"errors"
	"testing"
)

func TestParseRealSrvrLines(t *testing.T) {
	for _, tc := range []struct {
		in, want, raw string
	}{
		{"Zookeeper version: 3.8.0-${mvngit.commit.id}, built on 2023-02-07 12:46 UTC", "3.8.0", "3.8.0-${mvngit.commit.id}"},
		{"Zookeeper version: 3.4.13-6--1, built on Tue, 18 Jun 2019 08:07:37 +0200", "3.4.13", "3.4.13-6--1"},
		{"Zookeeper version: 3.9.2-e454e8c7283100c7caec6dcae2bc82aaecb63023, built on 2024-02-12 20:59 UTC", "3.9.2", "3.9.2-e454e8c7283100c7caec6dcae2bc82aaecb63023"},
		{"3.5.9", "3.5.9", "3.5.9"},
		{"3.6", "3.6.0", "3.6"},
	} {
		v, err := Parse(tc.in)
		if err != nil || v.String() != tc.want || v.Raw() != tc.raw {
			t.Errorf("Parse(%q) = %s (raw %q), %v; want %s (raw %q)", tc.in, v, v.Raw(), err, tc.want, tc.raw)
		}
	}
	for _, bad := range []string{"", "Zookeeper version:", "banana", "0.0.1", "3", "This ZooKeeper instance is not currently serving requests"} {
		if v, err := Parse(bad); !errors.Is(err, ErrParse) {
			t.Errorf("Parse(%q) = %v, %v; want ErrParse", bad, v, err)
		}
	}
}

func mustParse(s string) Version {
	v, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return v
}

func TestAtLeastAndCapabilities(t *testing.T) {
	v34, v358, v38 := mustParse("3.4.13-6--1"), mustParse("3.5.8"), mustParse("3.8.0")
	if v34.SupportsTLS() || !v358.SupportsTLS() || !v38.SupportsTLS() {
		t.Error("SupportsTLS wrong")
	}
	if !v38.AtLeast(3, 8, 0) || v38.AtLeast(3, 8, 1) || !v38.AtLeast(3, 7, 9) || v34.AtLeast(3, 5, 0) || !v358.AtLeast(3, 5, 8) {
		t.Error("AtLeast wrong")
	}
	if (Version{}).AtLeast(0, 0, 0) || (Version{}).String() != "unknown" {
		t.Error("zero Version")
	}
	if v38.SupportsWhoAmI() == false || v358.SupportsWhoAmI() {
		t.Error("SupportsWhoAmI wrong")
	}
}

func TestParseSrvrAndMode(t *testing.T) {
	out := "Zookeeper version: 3.8.0-${mvngit.commit.id}, built on 2023-02-07 12:46 UTC\nLatency min/avg/max: 0/0.0/0\nReceived: 1\nSent: 0\nConnections: 1\nOutstanding: 0\nZxid: 0x0\nMode: standalone\nNode count: 5\n"
	v, err := ParseSrvr(out)
	if err != nil || v.String() != "3.8.0" || ServerMode(out) != "standalone" {
		t.Fatalf("%s %v %q", v, err, ServerMode(out))
	}
	if _, err := ParseSrvr("This ZooKeeper instance is not currently serving requests\n"); !errors.Is(err, ErrParse) {
		t.Fatalf("not serving: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"Zookeeper version: 3.8.0-${mvngit.commit.id}, built on 2023", "3.4.13-6--1", "1.2.3.4.5", "99999999999.1", "3..1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := Parse(s)
		if err != nil {
			return
		}
		again, err := Parse(v.String())
		if err != nil || again.String() != v.String() {
			t.Fatalf("Parse(%q) = %s, which does not parse back (%v)", s, v, err)
		}
		if !v.AtLeast(v.major, v.minor, v.patch) {
			t.Fatalf("%s not AtLeast itself", v)
		}
	})
}
