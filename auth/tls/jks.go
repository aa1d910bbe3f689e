package zktls

import (
	"encoding/binary"
	"fmt"
)

// The JKS format as keystore-go reads it: magic, version (1 or 2), entry count; per entry a tag, an
// alias, a time stamp and either a private key (encrypted key bytes and a certificate chain) or one
// trusted certificate; a certificate is (version 2: a type name, then) a length-prefixed DER; last, a
// 20-byte SHA-1 digest.
const (
	jksMagic   = 0xfeedfeed
	jceksMagic = 0xcececece
	jksDigest  = 20
)

// checkJKS walks a JKS store's structure and refuses every length or count the data cannot hold, before
// keystore-go sees it: that library allocates whatever a 32-bit length or count claims (a 35-byte file
// can claim four billion certificates: 171 GB). After this check no allocation of the library exceeds
// a small multiple of the file's size. The error names the file and the field, never the content.
func checkJKS(path string, data []byte) error {
	w := jksWalker{b: data}
	bad := func(what string) error {
		return fmt.Errorf("%w: %s is not a valid JKS store (%s at byte %d of %d); check the file and its store type", ErrConfig, path, what, w.off, len(data))
	}
	magic, ok := w.u32()
	switch {
	case !ok:
		return bad("no header")
	case magic == jceksMagic:
		return fmt.Errorf("%w: %s is a JCEKS store, which zksecure does not read; convert it: keytool -importkeystore -srcstoretype JCEKS -srckeystore %s -deststoretype PKCS12 -destkeystore %s.p12", ErrConfig, path, path, path)
	case magic != jksMagic:
		return bad("no JKS magic number")
	}
	version, ok := w.u32()
	if !ok || (version != 1 && version != 2) {
		return bad("unknown version")
	}
	n, ok := w.u32()
	if !ok {
		return bad("no entry count")
	}
	for i := uint32(0); i < n; i++ {
		tag, ok := w.u32()
		if !ok || !w.str() || !w.skip(8) { // tag, alias, time stamp
			return bad(fmt.Sprintf("entry %d truncated", i+1))
		}
		switch tag {
		case 1: // private key entry
			if !w.bytes32() {
				return bad(fmt.Sprintf("entry %d: key length beyond the end of the file", i+1))
			}
			certs, ok := w.u32()
			min := uint64(4)
			if version == 2 {
				min = 6
			}
			if !ok || uint64(certs)*min > uint64(w.left()) {
				return bad(fmt.Sprintf("entry %d: certificate count beyond what the file holds", i+1))
			}
			for j := uint32(0); j < certs; j++ {
				if !w.cert(version) {
					return bad(fmt.Sprintf("entry %d: certificate %d beyond the end of the file", i+1, j+1))
				}
			}
		case 2: // trusted certificate entry
			if !w.cert(version) {
				return bad(fmt.Sprintf("entry %d: certificate beyond the end of the file", i+1))
			}
		default:
			return bad(fmt.Sprintf("entry %d: unknown entry type", i+1))
		}
	}
	if !w.skip(jksDigest) {
		return bad("no digest")
	}
	return nil
}

type jksWalker struct {
	b   []byte
	off int
}

func (w *jksWalker) left() int { return len(w.b) - w.off }

func (w *jksWalker) skip(n uint64) bool {
	if n > uint64(w.left()) {
		return false
	}
	w.off += int(n)
	return true
}

func (w *jksWalker) u32() (uint32, bool) {
	if w.left() < 4 {
		return 0, false
	}
	v := binary.BigEndian.Uint32(w.b[w.off:])
	w.off += 4
	return v, true
}

// str skips a u16-length string.
func (w *jksWalker) str() bool {
	if w.left() < 2 {
		return false
	}
	n := binary.BigEndian.Uint16(w.b[w.off:])
	w.off += 2
	return w.skip(uint64(n))
}

// bytes32 skips u32-length bytes.
func (w *jksWalker) bytes32() bool {
	n, ok := w.u32()
	return ok && w.skip(uint64(n))
}

func (w *jksWalker) cert(version uint32) bool {
	if version == 2 && !w.str() {
		return false
	}
	return w.bytes32()
}
