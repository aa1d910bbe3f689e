package sasl

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"

	krbclient "github.com/jcmturner/gokrb5/v8/client"
	krbconfig "github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/gssapi"
	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"
)

// offline is what the GSSAPI mechanism needs, with no KDC: a client with credentials, a ticket for
// the service and its session key (known here, so that tests can make tokens that verify).
type offline struct {
	cl  *krbclient.Client
	tkt messages.Ticket
	key types.EncryptionKey
}

func newOffline(t testing.TB) offline {
	t.Helper()
	cfg, err := krbconfig.NewFromString("[libdefaults]\n default_realm = EXAMPLE.COM\n")
	if err != nil {
		t.Fatal(err)
	}
	return offline{
		cl: krbclient.NewWithPassword("flink", "EXAMPLE.COM", "unused", cfg, krbclient.DisablePAFXFAST(true)),
		tkt: messages.Ticket{TktVNO: 5, Realm: "EXAMPLE.COM",
			SName:   types.NewPrincipalName(nametype.KRB_NT_SRV_INST, "zookeeper/localhost"),
			EncPart: types.EncryptedData{EType: etypeID.AES256_CTS_HMAC_SHA1_96, KVNO: 1, Cipher: make([]byte, 64)}},
		key: types.EncryptionKey{KeyType: etypeID.AES256_CTS_HMAC_SHA1_96, KeyValue: bytes.Repeat([]byte{0x42}, 32)},
	}
}

// acceptorWrap is a wrap token from the server (acceptor) carrying payload, checksummed with key.
func acceptorWrap(t testing.TB, payload []byte, key types.EncryptionKey) []byte {
	t.Helper()
	wt := gssapi.WrapToken{Flags: 0x01, EC: 12, Payload: payload}
	if err := wt.SetCheckSum(key, keyusage.GSSAPI_ACCEPTOR_SEAL); err != nil {
		t.Fatal(err)
	}
	b, err := wt.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// saslReply frames a reply to the SASL request xid carrying token.
func saslReply(xid int32, token []byte) []byte {
	body := binary.BigEndian.AppendUint32(nil, uint32(xid))
	body = binary.BigEndian.AppendUint64(body, 0)
	body = binary.BigEndian.AppendUint32(body, 0)
	body = binary.BigEndian.AppendUint32(body, uint32(len(token)))
	body = append(body, token...)
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
}

// A wrap token that does not verify is refused without the checksum gokrb5 computed for it: that
// checksum is a valid MAC, under the session key, of a payload the server chose.
func TestUnverifiedOfferDropsTheComputedChecksum(t *testing.T) {
	o := newOffline(t)
	g := &gssapiClient{}
	if _, err := g.start(o.cl, o.tkt, o.key); err != nil {
		t.Fatal(err)
	}
	chosen := []byte{0x07, 0xff, 0xff, 0xff}
	valid := acceptorWrap(t, chosen, o.key) // what a server with the key would send
	forged := append([]byte{}, valid...)
	copy(forged[len(forged)-12:], make([]byte, 12)) // same payload, wrong checksum
	mac := hex.EncodeToString(valid[len(valid)-12:])
	_, _, err := g.step(forged)
	if err == nil {
		t.Fatal("a forged offer was accepted")
	}
	a := &Authenticator{creds: &creds{cl: o.cl, cfg: Config{NoMutualAuth: true}, clientPrincipal: "flink@EXAMPLE.COM"}, done: make(chan struct{})}
	stream := saslReply(1, forged)
	aerr := a.exchange(struct {
		io.Reader
		io.Writer
	}{bytes.NewReader(stream), io.Discard}, "zk1:2181", "zookeeper/zk1@EXAMPLE.COM", o.tkt, o.key)
	var ae *AuthError
	if !errors.As(aerr, &ae) || !ae.Permanent {
		t.Fatalf("exchange: %v", aerr)
	}
	for _, s := range []string{err.Error(), aerr.Error(), ae.Reason} {
		if strings.Contains(s, mac) || strings.Contains(strings.ToLower(s), "computed") {
			t.Errorf("error carries the computed checksum %s: %s", mac, s)
		}
	}
}

// FuzzGSSAPIStep feeds arbitrary server tokens to the mechanism in every state: it returns a token,
// done, or an error, and never panics.
func FuzzGSSAPIStep(f *testing.F) {
	o := newOffline(f)
	f.Add(uint8(gssWaitOffer), acceptorWrap(f, []byte{layerNone, 0, 0, 0}, o.key))
	f.Add(uint8(gssWaitOffer), acceptorWrap(f, []byte{0x06, 0, 0x10, 0}, o.key))
	f.Add(uint8(gssWaitOffer), []byte{0x05, 0x04, 0x01, 0xff, 0, 12, 0, 0})
	f.Add(uint8(gssWaitAPRep), []byte{0x60, 0x0b, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02, 0x02, 0x00})
	f.Add(uint8(gssWaitDone), []byte{})
	f.Fuzz(func(t *testing.T, state uint8, tok []byte) {
		g := &gssapiClient{mutual: true}
		if _, err := g.start(o.cl, o.tkt, o.key); err != nil {
			t.Fatal(err)
		}
		g.state = int(state % (gssDone + 1))
		out, done, err := g.step(tok)
		if err != nil && (out != nil || done) {
			t.Fatalf("error %v with a token or done", err)
		}
	})
}

// FuzzSASLExchange runs the whole SASL frame loop against an arbitrary server byte stream: it ends
// (authenticated or with an error) when the stream does, and never panics. The seeds reach success.
func FuzzSASLExchange(f *testing.F) {
	o := newOffline(f)
	offer := acceptorWrap(f, []byte{layerNone, 0, 0, 0}, o.key)
	ok := append(saslReply(1, offer), saslReply(2, nil)...)
	ping := binary.BigEndian.AppendUint32(nil, 16)
	ping = binary.BigEndian.AppendUint32(ping, uint32(0xfffffffe)) // xid -2: a ping reply
	ping = append(ping, make([]byte, 12)...)
	f.Add(ok)
	f.Add(append(ping, ok...))
	f.Add(saslReply(1, nil))
	f.Add([]byte{0, 0, 0, 16, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x8d}) // AuthFailed
	f.Fuzz(func(t *testing.T, stream []byte) {
		a := &Authenticator{creds: &creds{cl: o.cl, cfg: Config{NoMutualAuth: true}, clientPrincipal: "flink@EXAMPLE.COM"}, done: make(chan struct{})}
		err := a.exchange(struct {
			io.Reader
			io.Writer
		}{bytes.NewReader(stream), io.Discard}, "zk1:2181", "zookeeper/zk1@EXAMPLE.COM", o.tkt, o.key)
		if err != nil {
			var ae *AuthError
			if !errors.As(err, &ae) {
				t.Fatalf("not an *AuthError: %v", err)
			}
			_ = ae.Error()
		}
	})
}

// The fuzz seed is a whole successful exchange (offer "none" verified, final empty reply), so the
// fuzzer starts from the success path.
func TestOfflineExchangeSeedSucceeds(t *testing.T) {
	o := newOffline(t)
	stream := append(saslReply(1, acceptorWrap(t, []byte{layerNone, 0, 0, 0}, o.key)), saslReply(2, nil)...)
	a := &Authenticator{creds: &creds{cl: o.cl, cfg: Config{NoMutualAuth: true}, clientPrincipal: "flink@EXAMPLE.COM"}, done: make(chan struct{})}
	var sent bytes.Buffer
	if err := a.exchange(struct {
		io.Reader
		io.Writer
	}{bytes.NewReader(stream), &sent}, "zk1:2181", "zookeeper/zk1@EXAMPLE.COM", o.tkt, o.key); err != nil {
		t.Fatal(err)
	}
	if sent.Len() == 0 {
		t.Fatal("nothing sent")
	}
}
