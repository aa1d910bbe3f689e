package testenv

import (
	"context"
	"encoding/hex"
	"net/url"
	"strings"
)

// Flink's leader record (connection_info) as the JVM writes and reads it, for checking a Go codec
// against Java serialization.

// EncodeFlinkRecord returns the bytes Flink writes to connection_info (ObjectOutputStream:
// writeUTF(address), writeObject(UUID)), produced by the JVM.
func (c *JavaClient) EncodeFlinkRecord(ctx context.Context, address, uuid string) ([]byte, error) {
	out, err := c.Do(ctx, "record-encode", enc(address), uuid)
	if err != nil {
		return nil, err
	}
	return unhex(out)
}

// DecodeFlinkRecord reads record with the JVM's ObjectInputStream (readUTF, readObject).
func (c *JavaClient) DecodeFlinkRecord(ctx context.Context, record []byte) (address, uuid string, err error) {
	out, err := c.Do(ctx, "record-decode", hexOf(record))
	if err != nil {
		return "", "", err
	}
	a, u, _ := strings.Cut(out, " ")
	address, err = url.QueryUnescape(a)
	return address, u, err
}

func hexOf(b []byte) string {
	if len(b) == 0 {
		return "-"
	}
	return hex.EncodeToString(b)
}

func unhex(s string) ([]byte, error) {
	if s == "-" {
		return nil, nil
	}
	return hex.DecodeString(s)
}
