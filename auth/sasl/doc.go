// Package sasl authenticates go-zookeeper/zk sessions with Kerberos, the way the Java ZooKeeper
// client does, in pure Go and fail-closed.
//
// It has three parts:
//
//   - Login: credentials from a keytab and principal, a ticket cache, or the Krb5LoginModule entry
//     of a JAAS file (the file JVMs already use), with krb5.conf from an explicit path, KRB5_CONFIG or
//     /etc/krb5.conf. Only AES keys are accepted.
//   - The service principal each ensemble member is asked for, chosen exactly as the Java client
//     chooses it (service name, reverse-DNS canonicalization, realm, full override).
//   - The GSSAPI mechanism (RFC 4752, security layer "none", empty authzid) carried in ZooKeeper's
//     SASL requests (opcode 102), run by a zk.Dialer wrapper on every connection between the
//     ConnectResponse and go-zookeeper's first request: no request ever leaves a connection that has
//     not authenticated.
//
// Credentials may rotate under a live session: before every login and service-ticket fetch the
// Authenticator checks its keytab or ticket cache file and uses a new version once it loads (a
// keytab once the KDC accepted it), keeping the last good credentials otherwise; Credentials says
// what is in use. TicketInfo describes a member's service ticket before it is used — encryption
// types, kvno, the realm path across a cross-realm trust — and TicketInfo.Weak names an RC4 or DES
// ticket, which a JDK server refuses (Active Directory's default for an SPN on a user account).
//
// An authentication failure that retrying cannot fix (the server's AuthFailed, a server without SASL,
// a rejected ticket, an unknown principal) latches: every later dial fails with the same *AuthError,
// and the OnFailure hooks are told, so that the owner of the zk.Conn can close it.
// Connect does all of this for a plain go-zookeeper session.
//
// One Authenticator serves many sessions: Shared gives a process one per configuration (one login,
// one service ticket per service principal), and Fork gives each session a failure latch of its
// own over the same credentials.
package sasl
