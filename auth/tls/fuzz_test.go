package zktls

import (
	"bytes"
	"encoding/pem"
	"testing"

	"github.com/pavlo-v-chernykh/keystore-go/v4"
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

// The 35-byte JKS file that claims a private key entry with 4,294,967,295 certificates: keystore-go
// alone would allocate 171 GB for the chain before reading one byte of it.
var hugeChainJKS = []byte{
	0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2, 0, 0, 0, 1, // magic, version 2, one entry
	0, 0, 0, 1, 0, 1, 'a', // private key entry, alias "a"
	0, 0, 0, 0, 0, 0, 0, 0, // time stamp
	0, 0, 0, 0, // no key bytes
	0xff, 0xff, 0xff, 0xff, // certificate count
}

// FuzzCheckJKS: the JKS pre-scan never panics, and whatever it lets through keystore-go reads
// without allocating more than the file can justify (the fuzzer's memory limit would catch it).
func FuzzCheckJKS(f *testing.F) {
	f.Add(hugeChainJKS)
	f.Add([]byte{0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2, 0, 0, 0, 0})
	f.Add([]byte{0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{0xce, 0xce, 0xce, 0xce})
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := checkJKS("fuzz.jks", data); err != nil {
			return
		}
		ks := keystore.New()
		ks.Load(bytes.NewReader(data), []byte("pw"))
	})
}
