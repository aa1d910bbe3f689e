// Package tlsresume holds the module's test-only switch for TLS session resumption: the client's
// reconnect benchmark (client.BenchmarkReconnectResumption) times a reconnection with and without
// it in one run. It is internal so that no program outside the module can turn resumption off; a
// user has no reason to (a resumed session keeps the certificate's identity, and the server is
// verified again on every handshake).
package tlsresume

import "sync/atomic"

// Disabled, when set, makes auth/tls hand out configurations without a session cache: every
// handshake is a full one. The zero value (false) is the default: sessions are resumed.
var Disabled atomic.Bool
