package preflight

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func sampleReport() *Report {
	r := &Report{Header: "zk-secure-check: 2 member(s) zk1:2281,zk2:2181; transport TLS; Kerberos as flink/jm1@EXAMPLE.COM (keytab /etc/flink.keytab); HA root /flink/prod; ACL creator"}
	for _, c := range []Result{
		{Name: CheckConfigLint, Status: Pass, Message: "configuration consistent"},
		{Name: CheckKDCReach, Status: Pass, Message: "KDC kdc.example.com:88 accepts connections"},
		{Name: CheckTCP, Member: "zk1:2281", Status: Pass, Message: "connected to zk1:2281 in 210µs"},
		{Name: CheckVersion, Member: "zk2:2181", Status: Fail, Message: "zk2:2181 speaks plaintext ZooKeeper 3.4.13-6--1; 3.4 has no TLS — use SASL, or upgrade to 3.5+",
			Fix: "use SASL over plaintext for this member (--transport plaintext with Kerberos), or upgrade it to ZooKeeper 3.5+ with a secureClientPort"},
		{Name: CheckSASL, Member: "zk2:2181", Status: Skip, Message: "skipped: version failed"},
		{Name: CheckTLSExpiry, Member: "zk1:2281", Status: Warn, Message: "CN=zk1 expires on 2026-12-01T00:00:00Z, in 145h0m0s", Fix: "renew the certificate before it expires"},
	} {
		r.add(c)
	}
	return r
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./preflight -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestTextOutputGolden(t *testing.T) {
	var b bytes.Buffer
	if err := sampleReport().WriteText(&b); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.txt", b.Bytes())
}

// The JSON shape is a contract: {"checks":[{"name","member","status","message","fix"}],
// "summary":{"pass","warn","fail","skip"}}.
func TestJSONOutputGolden(t *testing.T) {
	var b bytes.Buffer
	if err := sampleReport().WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.json", b.Bytes())
	var generic map[string]any
	if err := json.Unmarshal(b.Bytes(), &generic); err != nil {
		t.Fatal(err)
	}
	if len(generic) != 2 || generic["checks"] == nil || generic["summary"] == nil {
		t.Errorf("top-level keys %v", generic)
	}
	first := generic["checks"].([]any)[0].(map[string]any)
	for _, k := range []string{"name", "member", "status", "message", "fix"} {
		if _, ok := first[k]; !ok {
			t.Errorf("check object lacks %q", k)
		}
	}
	if len(first) != 5 {
		t.Errorf("check object has keys %v", first)
	}
	sum := generic["summary"].(map[string]any)
	if sum["pass"].(float64) != 3 || sum["warn"].(float64) != 1 || sum["fail"].(float64) != 1 || sum["skip"].(float64) != 1 {
		t.Errorf("summary %v", sum)
	}
}
