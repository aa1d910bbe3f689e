package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
)

func frameOf(body []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
}

func TestReadFrameReturnsReplayableBytes(t *testing.T) {
	body := []byte{0, 0, 0, 0, 0, 0, 0x75, 0x30, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 2, 9, 9, 0}
	in := append(frameOf(body), 0xAA) // a following byte must stay unread
	r := bytes.NewReader(in)
	frame, got, err := ReadFrame(r)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(frame, in[:len(in)-1]) || !bytes.Equal(got, body) {
		t.Fatalf("frame %x body %x", frame, got)
	}
	if r.Len() != 1 {
		t.Fatalf("ReadFrame consumed %d bytes past the frame", 1-r.Len())
	}
	cr, err := ParseConnectResponse(got)
	if err != nil {
		t.Fatal(err)
	}
	if cr.TimeOut != 30000 || cr.SessionID != 0x0102030405060708 || !bytes.Equal(cr.Passwd, []byte{9, 9}) || cr.ReadOnly {
		t.Fatalf("%+v", cr)
	}
}

func TestReadFrameRejectsTLSRecordAsLength(t *testing.T) {
	// A TLS alert/handshake record read as a jute length: 0x15030300 is ~352 MB.
	_, _, err := ReadFrame(bytes.NewReader([]byte{0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28}))
	if !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("err = %v, want ErrFrameTooLarge", err)
	}
}

func TestReadFrameTruncated(t *testing.T) {
	_, _, err := ReadFrame(bytes.NewReader([]byte{0, 0, 0, 10, 1, 2}))
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("err = %v, want ErrUnexpectedEOF", err)
	}
	_, _, err = ReadFrame(bytes.NewReader(nil))
	if !errors.Is(err, io.EOF) {
		t.Fatalf("empty stream: err = %v, want EOF", err)
	}
}

func TestSASLRequestLayout(t *testing.T) {
	got := AppendSASLRequest(nil, 7, []byte{0xde, 0xad})
	want := []byte{0, 0, 0, 14, 0, 0, 0, 7, 0, 0, 0, 102, 0, 0, 0, 2, 0xde, 0xad}
	if !bytes.Equal(got, want) {
		t.Fatalf("got %x want %x", got, want)
	}
	if got := AppendSASLRequest(nil, 1, nil); !bytes.Equal(got[12:], []byte{0, 0, 0, 0}) {
		t.Fatalf("nil token encoded as %x, want empty buffer", got[12:])
	}
}

func TestParseSASLReply(t *testing.T) {
	hdr := func(xid int32, errc int32) []byte {
		b := binary.BigEndian.AppendUint32(nil, uint32(xid))
		b = binary.BigEndian.AppendUint64(b, 42)
		return binary.BigEndian.AppendUint32(b, uint32(errc))
	}
	h, tok, err := ParseSASLReply(append(hdr(3, 0), 0, 0, 0, 2, 7, 8))
	if err != nil || h.Xid != 3 || h.Zxid != 42 || !bytes.Equal(tok, []byte{7, 8}) {
		t.Fatalf("%+v %x %v", h, tok, err)
	}
	_, tok, err = ParseSASLReply(append(hdr(3, 0), 0xff, 0xff, 0xff, 0xff))
	if err != nil || tok != nil {
		t.Fatalf("null token: %x %v", tok, err)
	}
	_, tok, err = ParseSASLReply(append(hdr(3, 0), 0, 0, 0, 0))
	if err != nil || tok == nil || len(tok) != 0 {
		t.Fatalf("empty token: %v %v", tok, err)
	}
	h, _, err = ParseSASLReply(hdr(3, ErrCodeAuthFailed))
	if err != nil || h.Err != -115 {
		t.Fatalf("auth failed reply: %+v %v", h, err)
	}
	if _, _, err := ParseSASLReply(append(hdr(3, 0), 0, 0, 0, 9, 1)); !errors.Is(err, ErrShort) {
		t.Fatalf("overlong token length: %v", err)
	}
}

// FuzzReadFrame: no input makes the frame reader or the decoders panic, allocate past MaxFrame, or
// return a frame that is not a prefix of the input.
func FuzzReadFrame(f *testing.F) {
	f.Add([]byte{0, 0, 0, 4, 1, 2, 3, 4})
	f.Add([]byte{0x16, 0x03, 0x01, 0x00})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Add(frameOf([]byte{0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff}))
	f.Fuzz(func(t *testing.T, in []byte) {
		frame, body, err := ReadFrame(bytes.NewReader(in))
		if err != nil {
			return
		}
		if len(frame) > 4+MaxFrame || !bytes.HasPrefix(in, frame) || !bytes.Equal(frame[4:], body) {
			t.Fatalf("frame %d bytes not a prefix of input", len(frame))
		}
		ParseConnectResponse(body)
		ParseSASLReply(body)
	})
}

func TestWhoAmIFrames(t *testing.T) {
	cr := AppendConnectRequest(nil, 10000)
	if n := binary.BigEndian.Uint32(cr); int(n) != len(cr)-4 || binary.BigEndian.Uint32(cr[16:20]) != 10000 {
		t.Fatalf("ConnectRequest %x", cr)
	}
	if got := AppendRequest(nil, 7, OpWhoAmI); !bytes.Equal(got, []byte{0, 0, 0, 8, 0, 0, 0, 7, 0, 0, 0, 107}) {
		t.Fatalf("whoAmI request %x", got)
	}
	body := binary.BigEndian.AppendUint32(nil, 7)
	body = binary.BigEndian.AppendUint64(body, 42)
	body = append(body, 0, 0, 0, 0, 0, 0, 0, 2)
	for _, s := range []string{"ip", "127.0.0.1", "sasl", "flink@EXAMPLE.COM"} {
		body = binary.BigEndian.AppendUint32(body, uint32(len(s)))
		body = append(body, s...)
	}
	h, rest, err := ParseReplyHeader(body)
	if err != nil || h.Xid != 7 {
		t.Fatalf("%+v %v", h, err)
	}
	ids, err := ParseWhoAmIResponse(rest)
	if err != nil || len(ids) != 2 || ids[1] != (ClientInfo{"sasl", "flink@EXAMPLE.COM"}) {
		t.Fatalf("%+v %v", ids, err)
	}
	// A count no body could hold is an error before any allocation.
	if _, err := ParseWhoAmIResponse([]byte{0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0}); !errors.Is(err, ErrShort) {
		t.Fatalf("huge count: %v", err)
	}
}

// FuzzParseWhoAmIResponse: no reply makes the whoAmI decoder panic or allocate beyond its input.
func FuzzParseWhoAmIResponse(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 0, 0, 0, 4, 's', 'a', 's', 'l', 0, 0, 0, 1, 'u'})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{0x7f, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, in []byte) {
		ids, err := ParseWhoAmIResponse(in)
		if err == nil && len(ids)*8 > len(in) {
			t.Fatalf("%d ids from %d bytes", len(ids), len(in))
		}
	})
}
