package zktls_test

import (
	"crypto/rand"
	"crypto/rsa"
	"fmt"
)

type rsaKey = rsa.PrivateKey

type randReader struct{}

func (randReader) Read(p []byte) (int, error) { return rand.Read(p) }

func fmtAll(v any) string {
	return fmt.Sprintf("%v %+v %#v %s %q", v, v, v, v, v)
}
