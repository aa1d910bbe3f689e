package sasl

import (
	"errors"
	"fmt"

	krbclient "github.com/jcmturner/gokrb5/v8/client"
	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/gssapi"
	"github.com/jcmturner/gokrb5/v8/iana/flags"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/spnego"
	"github.com/jcmturner/gokrb5/v8/types"
)

// layerNone is RFC 4752's "no security layer" bit, the only layer zksecure chooses.
const layerNone = 0x01

// errGSSAPI marks failures of the mechanism itself (bad tokens, failed verification).
var errGSSAPI = errors.New("GSSAPI")

// gssapiClient is the initiator side of the Kerberos V5 GSSAPI SASL mechanism (RFC 4752) with
// security layer "none" and an empty authorization id, as the JDK's ZooKeeper server expects.
type gssapiClient struct {
	mutual bool
	key    types.EncryptionKey // the ticket's session key
	ctime  types.Authenticator // our authenticator, to check the AP-REP
	wrap   types.EncryptionKey // key for wrap tokens: acceptor subkey if sent, else session key
	state  int
}

const (
	gssInit = iota
	gssWaitAPRep
	gssWaitOffer
	gssWaitDone
	gssDone
)

// start builds the initial token: an AP-REQ in an RFC 2743 initial context token (0x60 framing, the
// krb5 OID, token id 01 00). With mutual authentication the server answers an AP-REP first.
func (g *gssapiClient) start(cl *krbclient.Client, tkt messages.Ticket, key types.EncryptionKey) ([]byte, error) {
	gssFlags := []int{gssapi.ContextFlagInteg, gssapi.ContextFlagConf}
	var apOpts []int
	if g.mutual {
		gssFlags = append(gssFlags, gssapi.ContextFlagMutual)
		apOpts = append(apOpts, flags.APOptionMutualRequired)
	}
	tok, err := spnego.NewKRB5TokenAPREQ(cl, tkt, key, gssFlags, apOpts)
	if err != nil {
		return nil, fmt.Errorf("%w: building the AP-REQ: %w", errGSSAPI, err)
	}
	b, err := tok.Marshal()
	if err != nil {
		return nil, fmt.Errorf("%w: encoding the AP-REQ: %w", errGSSAPI, err)
	}
	// Keep our authenticator's time stamp: the AP-REP must echo it (RFC 4120 §3.2.4).
	plain, err := crypto.DecryptEncPart(tok.APReq.EncryptedAuthenticator, key, keyusage.AP_REQ_AUTHENTICATOR)
	if err != nil {
		return nil, fmt.Errorf("%w: reading back our authenticator: %w", errGSSAPI, err)
	}
	if err := g.ctime.Unmarshal(plain); err != nil {
		return nil, fmt.Errorf("%w: reading back our authenticator: %w", errGSSAPI, err)
	}
	g.key, g.wrap = key, key
	g.state = gssWaitOffer
	if g.mutual {
		g.state = gssWaitAPRep
	}
	return b, nil
}

// step consumes a server token and returns the next client token; done is true once the server's
// final (empty) answer has been accepted.
func (g *gssapiClient) step(in []byte) (out []byte, done bool, err error) {
	switch g.state {
	case gssWaitAPRep:
		var rep spnego.KRB5Token
		if err := rep.Unmarshal(in); err != nil {
			return nil, false, fmt.Errorf("%w: server's first token is not a Kerberos AP-REP: %w", errGSSAPI, err)
		}
		if rep.IsKRBError() {
			return nil, false, fmt.Errorf("%w: server answered with a Kerberos error: %w", errGSSAPI, rep.KRBError)
		}
		if !rep.IsAPRep() {
			return nil, false, fmt.Errorf("%w: server's first token is not an AP-REP", errGSSAPI)
		}
		plain, err := crypto.DecryptEncPart(rep.APRep.EncPart, g.key, keyusage.AP_REP_ENCPART)
		if err != nil {
			return nil, false, fmt.Errorf("%w: AP-REP does not decrypt with the ticket's session key (mutual authentication failed): %w", errGSSAPI, err)
		}
		var enc messages.EncAPRepPart
		if err := enc.Unmarshal(plain); err != nil {
			return nil, false, fmt.Errorf("%w: AP-REP: %w", errGSSAPI, err)
		}
		if !enc.CTime.Equal(g.ctime.CTime) || enc.Cusec != g.ctime.Cusec {
			return nil, false, fmt.Errorf("%w: AP-REP time stamp does not match our authenticator (mutual authentication failed)", errGSSAPI)
		}
		if len(enc.Subkey.KeyValue) > 0 {
			g.wrap = enc.Subkey
		}
		g.state = gssWaitOffer
		return []byte{}, false, nil
	case gssWaitOffer:
		var wt gssapi.WrapToken
		if err := wt.Unmarshal(in, true); err != nil {
			return nil, false, fmt.Errorf("%w: server's security-layer offer: %w", errGSSAPI, err)
		}
		if ok, _ := wt.Verify(g.wrap, keyusage.GSSAPI_ACCEPTOR_SEAL); !ok {
			// gokrb5's error is dropped, never wrapped: its text carries the checksum it computed,
			// a valid MAC under the session key of a payload the server chose.
			return nil, false, fmt.Errorf("%w: server's security-layer offer does not verify (wrong checksum: the server does not hold this ticket's session key)", errGSSAPI)
		}
		if len(wt.Payload) != 4 {
			return nil, false, fmt.Errorf("%w: security-layer offer has %d bytes, want 4", errGSSAPI, len(wt.Payload))
		}
		if wt.Payload[0]&layerNone == 0 {
			return nil, false, fmt.Errorf("%w: the server offers only security layers %#x (integrity/privacy) and not \"none\"; zksecure supports QOP auth only (set the server's javax.security.sasl.qop to auth)", errGSSAPI, wt.Payload[0])
		}
		// Choose "none": max buffer size 0, and an empty authzid so the server uses the
		// authenticated principal itself.
		reply, err := gssapi.NewInitiatorWrapToken([]byte{layerNone, 0, 0, 0}, g.wrap)
		if err != nil {
			return nil, false, fmt.Errorf("%w: %w", errGSSAPI, err)
		}
		b, err := reply.Marshal()
		if err != nil {
			return nil, false, fmt.Errorf("%w: %w", errGSSAPI, err)
		}
		g.state = gssWaitDone
		return b, false, nil
	case gssWaitDone:
		if len(in) != 0 {
			return nil, false, fmt.Errorf("%w: unexpected %d-byte token after the security-layer choice", errGSSAPI, len(in))
		}
		g.state = gssDone
		return nil, true, nil
	}
	return nil, false, fmt.Errorf("%w: token in state %d", errGSSAPI, g.state)
}
