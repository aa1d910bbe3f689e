package zktls

import (
	"encoding/pem"
	"testing"
)

// FuzzParseKeyBlock feeds arbitrary key blocks (plain, encrypted, legacy) to the key parser: it must
// return a key or an error, never panic.
func FuzzParseKeyBlock(f *testing.F) {
	f.Add("PRIVATE KEY", []byte{0x30, 0x03, 0x02, 0x01, 0x00}, "")
	f.Add("ENCRYPTED PRIVATE KEY", []byte{0x30, 0x0d, 0x30, 0x0b, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0d}, "")
	f.Add("ENCRYPTED PRIVATE KEY", []byte{0x30, 0x0e, 0x30, 0x0c, 0x06, 0x0a, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x01, 0x03}, "")
	f.Add("RSA PRIVATE KEY", []byte{0x30, 0x00}, "4,ENCRYPTED")
	f.Add("EC PRIVATE KEY", []byte{}, "")
	f.Fuzz(func(t *testing.T, typ string, der []byte, procType string) {
		b := &pem.Block{Type: typ, Bytes: der}
		if procType != "" {
			b.Headers = map[string]string{"Proc-Type": procType}
		}
		k, err := parseKeyBlock("fuzz.pem", b, password{value: "pw", what: "key"})
		if err == nil && k == nil {
			t.Fatal("nil key without error")
		}
	})
}
