// Package zktls builds the client side of TLS for ZooKeeper (3.5+): a *tls.Config per ensemble
// member from PEM files (certificate chain and key, or one ZooKeeper "PEM keystore" holding both),
// encrypted PKCS#8 keys, PKCS#12 bundles, JKS keystores and CA bundles, or from the Java-style
// zookeeper.ssl.* client properties the JVM tools already use.
//
// The package lives in auth/tls and is named zktls so that it does not shadow crypto/tls.
//
// Verification is on by default and reaches the same outcome as ZooKeeper's Java client: the chain
// must lead to a trusted CA, and the certificate must name the member — its address among the IP
// SANs, or the connect string's host name (for an IP literal: its reverse-DNS name) among the DNS
// SANs, or, with no SANs at all, in the common name. TLS 1.2 is the minimum. Errors name the
// member, the file and what the certificate holds (issuer, expiry date, names).
//
// Secrets: passwords come from a file, an environment variable or a Secret value; they are never
// logged or put into errors, and Secret prints as "[redacted]".
package zktls
