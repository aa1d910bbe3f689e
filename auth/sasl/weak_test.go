package sasl_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jcmturner/gokrb5/v8/iana/etypeID"

	"github.com/zksecure/zksecure/auth/sasl"
)

// With AD's defaults an SPN on a user account gets RC4 tickets: the client names that before it
// connects (TicketInfo.Weak), and when the JDK server then refuses the ticket, the AuthError says
// why and how to get AES, instead of a generic AuthFailed. The AES SPN's ticket is fine.
func TestWeakTicketIsNamedBeforeConnecting(t *testing.T) {
	requireEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a := adEnv.newAuth(t, adEnv.keytabLogin(t, "client"))
	rc4 := adEnv.servers[zkRC4].Members[0]
	info, err := a.TicketInfo(ctx, rc4.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s", info)
	if info.TicketEnctype != etypeID.RC4_HMAC || info.SessionKeyEnctype != etypeID.AES256_CTS_HMAC_SHA1_96 || info.ServicePrincipal != rc4.ServicePrincipal {
		t.Fatalf("ticket %+v, want an RC4 ticket with an AES256 session key for %s", info, rc4.ServicePrincipal)
	}
	weak := info.Weak()
	var we *sasl.WeakTicketError
	if !errors.As(weak, &we) || !errors.Is(weak, sasl.ErrWeakEnctype) {
		t.Fatalf("Weak() = %v, want a *WeakTicketError", weak)
	}
	for _, want := range []string{"arcfour-hmac", "refuses RC4", "msDS-SupportedEncryptionTypes", "zookeeper/zkr1.ad.test", "exportkeytab", "cpw -randkey -e aes256"} {
		if !strings.Contains(weak.Error(), want) {
			t.Errorf("diagnosis %q lacks %q", weak, want)
		}
	}

	_, _, err = sasl.Connect(ctx, a, []string{rc4.Addr()}, 10*time.Second, nil)
	var ae *sasl.AuthError
	if !errors.As(err, &ae) || ae.Code != sasl.CodeAuthFailed || !errors.Is(err, sasl.ErrWeakEnctype) || !errors.Is(err, sasl.ErrAuthFailed) {
		t.Fatalf("connecting with the RC4 ticket: %v, want AuthFailed explained as a weak ticket", err)
	}
	if !strings.Contains(ae.Error(), "msDS-SupportedEncryptionTypes") || !strings.Contains(ae.Error(), "AuthFailed") {
		t.Errorf("AuthError %q lacks the diagnosis", ae)
	}

	aes := adEnv.servers[zk38].Members[0]
	info, err = a.TicketInfo(ctx, aes.Addr())
	if err != nil || info.Weak() != nil || info.KVNO == 0 || len(info.RealmPath) != 1 {
		t.Fatalf("AES member: %+v, %v", info, err)
	}
}

// The diagnosis is pure logic: a weak session key (MIT with RC4-only service keys and
// session_enctypes unset, or DES) is named as such; AES tickets have none.
func TestWeakDiagnosisNamesTheWeakPart(t *testing.T) {
	for _, tc := range []struct {
		tkt, ses int32
		want     string // "" = not weak
	}{
		{etypeID.AES256_CTS_HMAC_SHA1_96, etypeID.AES128_CTS_HMAC_SHA1_96, ""},
		{etypeID.AES256_CTS_HMAC_SHA384_192, etypeID.AES256_CTS_HMAC_SHA384_192, ""},
		{etypeID.RC4_HMAC, etypeID.AES256_CTS_HMAC_SHA1_96, "refuses RC4 and DES tickets"},
		{etypeID.RC4_HMAC, etypeID.RC4_HMAC, "cannot use a arcfour-hmac (rc4-hmac) session key"},
		{etypeID.DES_CBC_MD5, etypeID.DES_CBC_MD5, "cannot use a des-cbc (single DES) session key"},
	} {
		info := sasl.TicketInfo{ServicePrincipal: "zookeeper/zk1.example.com@EXAMPLE.COM", TicketEnctype: tc.tkt, SessionKeyEnctype: tc.ses}
		err := info.Weak()
		if tc.want == "" {
			if err != nil {
				t.Errorf("%s: Weak() = %v", info, err)
			}
			continue
		}
		if err == nil || !errors.Is(err, sasl.ErrWeakEnctype) || !strings.Contains(err.Error(), tc.want) ||
			!strings.Contains(err.Error(), "kadmin: cpw -randkey -e aes256-cts-hmac-sha1-96:normal zookeeper/zk1.example.com") {
			t.Errorf("%s: Weak() = %v, want it to say %q and the MIT fix", info, err, tc.want)
		}
	}
}
