package wire

import (
	"encoding/binary"
	"fmt"
)

// Opcodes of the requests zksecure sends below go-zookeeper, beside OpSASL.
const (
	// OpWhoAmI asks the server for the session's authentication ids (ZooKeeper 3.7+). Older servers
	// answer it with UNIMPLEMENTED and close the connection: send it only to a known 3.7+ member.
	OpWhoAmI int32 = 107
	// OpCloseSession ends the session at once instead of letting it expire.
	OpCloseSession int32 = -11
)

// AppendConnectRequest appends a framed ConnectRequest for a new session (protocol version 0, no
// last zxid, session id 0, a zero password, not read-only) asking for timeoutMs.
func AppendConnectRequest(dst []byte, timeoutMs int32) []byte {
	const n = 4 + 8 + 4 + 8 + 4 + 16 + 1
	dst = binary.BigEndian.AppendUint32(dst, n)
	dst = binary.BigEndian.AppendUint32(dst, 0) // protocolVersion
	dst = binary.BigEndian.AppendUint64(dst, 0) // lastZxidSeen
	dst = binary.BigEndian.AppendUint32(dst, uint32(timeoutMs))
	dst = binary.BigEndian.AppendUint64(dst, 0)  // sessionId
	dst = binary.BigEndian.AppendUint32(dst, 16) // passwd
	dst = append(dst, make([]byte, 16)...)
	return append(dst, 0) // readOnly
}

// AppendRequest appends a framed request that has a header and no body (whoAmI, closeSession).
func AppendRequest(dst []byte, xid, op int32) []byte {
	dst = binary.BigEndian.AppendUint32(dst, 8)
	dst = binary.BigEndian.AppendUint32(dst, uint32(xid))
	return binary.BigEndian.AppendUint32(dst, uint32(op))
}

// ClientInfo is one authentication id of a session, as whoAmI reports it ("sasl", "flink@EXAMPLE.COM").
type ClientInfo struct {
	Scheme, User string
}

// ParseReplyHeader decodes the ReplyHeader at the start of a reply body and returns the rest.
func ParseReplyHeader(body []byte) (ReplyHeader, []byte, error) {
	d := decoder{b: body}
	h := ReplyHeader{Xid: d.int32(), Zxid: d.int64(), Err: d.int32()}
	if d.err != nil {
		return h, nil, fmt.Errorf("wire: reply header: %w", d.err)
	}
	return h, d.b, nil
}

// ParseWhoAmIResponse decodes a WhoAmIResponse (vector<ClientInfo{ustring authScheme; ustring user}>).
// The count is checked against the bytes present before anything is allocated.
func ParseWhoAmIResponse(b []byte) ([]ClientInfo, error) {
	d := decoder{b: b}
	n := d.int32()
	if d.err != nil {
		return nil, fmt.Errorf("wire: whoAmI response: %w", d.err)
	}
	if n < 0 {
		return nil, nil // a null vector
	}
	if int64(n)*8 > int64(len(d.b)) { // every entry has two length prefixes at least
		return nil, fmt.Errorf("wire: whoAmI response: %w: %d entries in %d bytes", ErrShort, n, len(d.b))
	}
	out := make([]ClientInfo, 0, n)
	for i := int32(0); i < n; i++ {
		scheme, user := d.buffer(), d.buffer()
		if d.err != nil {
			return nil, fmt.Errorf("wire: whoAmI response entry %d: %w", i, d.err)
		}
		out = append(out, ClientInfo{Scheme: string(scheme), User: string(user)})
	}
	return out, nil
}
