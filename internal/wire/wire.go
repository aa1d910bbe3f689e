// Package wire encodes and decodes the few ZooKeeper (jute) frames zksecure must handle itself, below
// go-zookeeper/zk: the ConnectResponse it intercepts, and the SASL request/reply (opcode 102).
//
// Jute is big-endian; every frame is an int32 length followed by the body; a buffer is an int32 length
// and the bytes, length -1 meaning null.
package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// OpSASL is the opcode of a SASL request.
const OpSASL int32 = 102

// Server error codes zksecure interprets (ReplyHeader.err; the names of Java's KeeperException.Code).
// go-zookeeper keeps its codes unexported and has none for -124, so they are named here, once.
const (
	// ErrCodeOK is OK.
	ErrCodeOK int32 = 0
	// ErrCodeAuthFailed is AUTHFAILED: the server rejected the SASL authentication.
	ErrCodeAuthFailed int32 = -115
	// ErrCodeSessionClosedRequireAuth is SESSIONCLOSEDREQUIRESASLAUTH: the server enforces SASL
	// (3.5.9+/3.6+, enforce.auth.enabled or sessionRequireClientSASLAuth) and the session did not
	// authenticate.
	ErrCodeSessionClosedRequireAuth int32 = -124
)

// MaxFrame is the largest frame ReadFrame accepts (ZooKeeper's default jute.maxbuffer is 1 MiB,
// plus headers). A larger length is a protocol error, typically a TLS record read as plaintext or the
// reverse.
const MaxFrame = 1<<20 + 1024

// ErrFrameTooLarge is returned for a length above MaxFrame or below zero.
var ErrFrameTooLarge = errors.New("wire: frame length out of range")

// ErrShort is returned when a frame body ends before a field does.
var ErrShort = errors.New("wire: frame too short")

// ReadFrame reads one length-prefixed frame and returns the whole frame, length prefix included
// (so that it can be replayed byte for byte), and the body.
func ReadFrame(r io.Reader) (frame, body []byte, err error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, nil, err
	}
	n := int32(binary.BigEndian.Uint32(hdr[:]))
	if n < 0 || n > MaxFrame {
		return nil, nil, fmt.Errorf("%w: %d bytes", ErrFrameTooLarge, n)
	}
	frame = make([]byte, 4+int(n))
	copy(frame, hdr[:])
	if _, err := io.ReadFull(r, frame[4:]); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, nil, err
	}
	return frame, frame[4:], nil
}

// ConnectResponse is the server's answer to a ConnectRequest.
type ConnectResponse struct {
	ProtocolVersion int32
	TimeOut         int32 // negotiated session timeout, ms
	SessionID       int64 // 0 means the session expired
	Passwd          []byte
	ReadOnly        bool // absent from old servers
}

// ParseConnectResponse decodes a ConnectResponse body.
func ParseConnectResponse(body []byte) (ConnectResponse, error) {
	d := decoder{b: body}
	var r ConnectResponse
	r.ProtocolVersion = d.int32()
	r.TimeOut = d.int32()
	r.SessionID = d.int64()
	r.Passwd = d.buffer()
	if d.err != nil {
		return r, fmt.Errorf("wire: ConnectResponse: %w", d.err)
	}
	if len(d.b) > 0 {
		r.ReadOnly = d.b[0] != 0
	}
	return r, nil
}

// AppendSASLRequest appends a framed SASL request (RequestHeader{xid, 102}, GetSASLRequest{token}).
// A nil token is sent as an empty buffer, as the Java client does.
func AppendSASLRequest(dst []byte, xid int32, token []byte) []byte {
	n := 4 + 4 + 4 + len(token)
	dst = binary.BigEndian.AppendUint32(dst, uint32(n))
	dst = binary.BigEndian.AppendUint32(dst, uint32(xid))
	dst = binary.BigEndian.AppendUint32(dst, uint32(OpSASL))
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(token)))
	return append(dst, token...)
}

// ReplyHeader starts every reply.
type ReplyHeader struct {
	Xid  int32
	Zxid int64
	Err  int32
}

// ParseSASLReply decodes a reply body: the ReplyHeader, then, when Err is 0, SetSASLResponse{token}.
// A null token is returned as nil, an empty one as a non-nil empty slice.
func ParseSASLReply(body []byte) (ReplyHeader, []byte, error) {
	d := decoder{b: body}
	h := ReplyHeader{Xid: d.int32(), Zxid: d.int64(), Err: d.int32()}
	if d.err != nil {
		return h, nil, fmt.Errorf("wire: SASL reply header: %w", d.err)
	}
	if h.Err != ErrCodeOK || len(d.b) == 0 {
		return h, nil, nil
	}
	tok := d.buffer()
	if d.err != nil {
		return h, nil, fmt.Errorf("wire: SASL reply token: %w", d.err)
	}
	return h, tok, nil
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || len(d.b) < n {
		d.err = ErrShort
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) int32() int32 {
	v := d.take(4)
	if v == nil {
		return 0
	}
	return int32(binary.BigEndian.Uint32(v))
}

func (d *decoder) int64() int64 {
	v := d.take(8)
	if v == nil {
		return 0
	}
	return int64(binary.BigEndian.Uint64(v))
}

// buffer reads a jute buffer; length -1 is null (nil), 0 is empty (non-nil).
func (d *decoder) buffer() []byte {
	n := d.int32()
	if d.err != nil {
		return nil
	}
	if n == -1 {
		return nil
	}
	if n < -1 {
		d.err = fmt.Errorf("%w: buffer length %d", ErrShort, n)
		return nil
	}
	v := d.take(int(n))
	if v == nil {
		return nil
	}
	return append([]byte{}, v...)
}
