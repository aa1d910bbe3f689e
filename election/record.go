package election

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf16"

	"github.com/google/uuid"
)

// LeaderInfo is what a Flink leader publishes at <namespace>/leader/<component>/connection_info:
// its address and its leader session id.
type LeaderInfo struct {
	// Address is where the leader serves (for Flink's rest_server, its REST URL).
	Address string
	// SessionID is the leader session id the leader published with it (Leadership.SessionID).
	SessionID uuid.UUID
}

// ErrRecord is returned for bytes that are not a Flink leader record.
var ErrRecord = errors.New("election: not a Flink leader record")

// Java serialization constants (java.io.ObjectStreamConstants).
const (
	streamMagic    = 0xACED
	streamVersion  = 5
	tcNull         = 0x70
	tcClassDesc    = 0x72
	tcObject       = 0x73
	tcEndBlockData = 0x78
	tcBlockData    = 0x77
	tcBlockDataLng = 0x7A
	scSerializable = 0x02
	uuidSUID       = int64(-4856846361193249489) // java.util.UUID's serialVersionUID
)

// EncodeLeaderRecord writes info exactly as Flink does: an ObjectOutputStream with writeUTF(address)
// then writeObject(java.util.UUID).
func EncodeLeaderRecord(info LeaderInfo) ([]byte, error) {
	utf, err := modifiedUTF8(info.Address)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, uint16(streamMagic))
	binary.Write(&b, binary.BigEndian, uint16(streamVersion))
	// writeUTF goes to block data: 2-byte length then the bytes, in blocks of at most 1024 bytes.
	data := binary.BigEndian.AppendUint16(nil, uint16(len(utf)))
	data = append(data, utf...)
	for len(data) > 0 {
		n := min(len(data), 1024)
		if n <= 255 {
			b.WriteByte(tcBlockData)
			b.WriteByte(byte(n))
		} else {
			b.WriteByte(tcBlockDataLng)
			binary.Write(&b, binary.BigEndian, int32(n))
		}
		b.Write(data[:n])
		data = data[n:]
	}
	// writeObject(UUID): new object, new class descriptor, two long fields sorted by name.
	b.WriteByte(tcObject)
	b.WriteByte(tcClassDesc)
	writeJavaUTF(&b, "java.util.UUID")
	binary.Write(&b, binary.BigEndian, uuidSUID)
	b.WriteByte(scSerializable)
	binary.Write(&b, binary.BigEndian, uint16(2))
	for _, f := range []string{"leastSigBits", "mostSigBits"} {
		b.WriteByte('J')
		writeJavaUTF(&b, f)
	}
	b.WriteByte(tcEndBlockData)
	b.WriteByte(tcNull) // no superclass descriptor
	id := info.SessionID
	b.Write(id[8:16]) // leastSigBits
	b.Write(id[0:8])  // mostSigBits
	return b.Bytes(), nil
}

func writeJavaUTF(b *bytes.Buffer, s string) {
	binary.Write(b, binary.BigEndian, uint16(len(s)))
	b.WriteString(s)
}

// modifiedUTF8 encodes s as Java's DataOutput.writeUTF does: NUL as C0 80, characters outside the
// BMP as two 3-byte surrogates. At most 65535 bytes.
func modifiedUTF8(s string) ([]byte, error) {
	var out []byte
	for _, r := range s {
		for _, u := range utf16.Encode([]rune{r}) {
			switch {
			case u != 0 && u < 0x80:
				out = append(out, byte(u))
			case u < 0x800:
				out = append(out, 0xC0|byte(u>>6), 0x80|byte(u&0x3F))
			default:
				out = append(out, 0xE0|byte(u>>12), 0x80|byte((u>>6)&0x3F), 0x80|byte(u&0x3F))
			}
		}
	}
	if len(out) > 65535 {
		return nil, fmt.Errorf("election: address of %d bytes is too long for writeUTF", len(out))
	}
	return out, nil
}

func decodeModifiedUTF8(b []byte) (string, error) {
	var units []uint16
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case c < 0x80 && c != 0:
			units = append(units, uint16(c))
			i++
		case c&0xE0 == 0xC0 && i+1 < len(b) && b[i+1]&0xC0 == 0x80:
			units = append(units, uint16(c&0x1F)<<6|uint16(b[i+1]&0x3F))
			i += 2
		case c&0xF0 == 0xE0 && i+2 < len(b) && b[i+1]&0xC0 == 0x80 && b[i+2]&0xC0 == 0x80:
			units = append(units, uint16(c&0x0F)<<12|uint16(b[i+1]&0x3F)<<6|uint16(b[i+2]&0x3F))
			i += 3
		default:
			return "", fmt.Errorf("%w: malformed modified UTF-8 at byte %d", ErrRecord, i)
		}
	}
	return string(utf16.Decode(units)), nil
}

// DecodeLeaderRecord parses a record written by Flink (or EncodeLeaderRecord). An empty record
// (no leader) is ErrNoLeader.
func DecodeLeaderRecord(b []byte) (LeaderInfo, error) {
	if len(b) == 0 {
		return LeaderInfo{}, ErrNoLeader
	}
	r := &reader{b: b}
	if r.u16() != streamMagic || r.u16() != streamVersion {
		return LeaderInfo{}, fmt.Errorf("%w: no Java serialization header", ErrRecord)
	}
	// Collect the block data that precedes the object.
	var data []byte
	for r.err == nil && len(r.b) > 0 && (r.b[0] == tcBlockData || r.b[0] == tcBlockDataLng) {
		var n int
		if r.byte() == tcBlockData {
			n = int(r.byte())
		} else {
			n = int(int32(r.u32()))
		}
		data = append(data, r.take(n)...)
	}
	if r.err != nil || len(data) < 2 {
		return LeaderInfo{}, fmt.Errorf("%w: no address (writeUTF) block", ErrRecord)
	}
	n := int(binary.BigEndian.Uint16(data))
	if len(data) != 2+n {
		return LeaderInfo{}, fmt.Errorf("%w: address length %d does not match its block of %d bytes", ErrRecord, n, len(data)-2)
	}
	addr, err := decodeModifiedUTF8(data[2:])
	if err != nil {
		return LeaderInfo{}, err
	}
	info := LeaderInfo{Address: addr}
	switch r.byte() {
	case tcNull:
		return info, r.errOr(nil)
	case tcObject:
	default:
		return LeaderInfo{}, fmt.Errorf("%w: no UUID object after the address", ErrRecord)
	}
	if r.byte() != tcClassDesc {
		return LeaderInfo{}, fmt.Errorf("%w: UUID without a class descriptor", ErrRecord)
	}
	if name := string(r.take(int(r.u16()))); name != "java.util.UUID" {
		return LeaderInfo{}, fmt.Errorf("%w: object of class %q, want java.util.UUID", ErrRecord, name)
	}
	if int64(r.u64()) != uuidSUID {
		return LeaderInfo{}, fmt.Errorf("%w: java.util.UUID with an unexpected serialVersionUID", ErrRecord)
	}
	r.byte() // flags
	fields := int(r.u16())
	vals := map[string]bool{}
	for i := 0; i < fields && r.err == nil; i++ {
		if t := r.byte(); t != 'J' {
			return LeaderInfo{}, fmt.Errorf("%w: UUID field of type %q, want long", ErrRecord, t)
		}
		vals[string(r.take(int(r.u16())))] = true
	}
	if !vals["leastSigBits"] || !vals["mostSigBits"] || fields != 2 {
		return LeaderInfo{}, fmt.Errorf("%w: UUID fields are not leastSigBits and mostSigBits", ErrRecord)
	}
	if r.byte() != tcEndBlockData || r.byte() != tcNull {
		return LeaderInfo{}, fmt.Errorf("%w: unexpected class annotations in the UUID descriptor", ErrRecord)
	}
	least, most := r.take(8), r.take(8)
	if r.err != nil {
		return LeaderInfo{}, fmt.Errorf("%w: %w", ErrRecord, r.err)
	}
	copy(info.SessionID[0:8], most)
	copy(info.SessionID[8:16], least)
	return info, nil
}

type reader struct {
	b   []byte
	err error
}

func (r *reader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b) {
		r.err = errors.New("truncated")
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) byte() byte {
	v := r.take(1)
	if v == nil {
		return 0
	}
	return v[0]
}

func (r *reader) u16() uint16 {
	v := r.take(2)
	if v == nil {
		return 0
	}
	return binary.BigEndian.Uint16(v)
}

func (r *reader) u32() uint32 {
	v := r.take(4)
	if v == nil {
		return 0
	}
	return binary.BigEndian.Uint32(v)
}

func (r *reader) u64() uint64 {
	v := r.take(8)
	if v == nil {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

func (r *reader) errOr(err error) error {
	if r.err != nil {
		return fmt.Errorf("%w: %w", ErrRecord, r.err)
	}
	return err
}
