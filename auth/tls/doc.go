// Package zktls builds the client side of TLS for ZooKeeper (3.5+): a *tls.Config per ensemble
// member from PEM files (certificate chain and key, or one ZooKeeper "PEM keystore" holding both),
// encrypted PKCS#8 keys, PKCS#12 bundles, JKS keystores and CA bundles, or from the Java-style
// zookeeper.ssl.* client properties the JVM tools already use (LoadProperties, FromProperties: the
// full client property set of ZooKeeper 3.8 and 3.9; a key zksecure does not implement is an error
// naming it).
//
// The package lives in auth/tls and is named zktls so that it does not shadow crypto/tls.
//
// Verification is on by default and reaches the same outcome as ZooKeeper's Java client: the chain
// must lead to a trusted CA, and the certificate must name the member by the HostnameRules in use —
// by default ZooKeeper's own (the address connected to among the IP SANs, or the member's host name
// among the DNS SANs, or, with no SANs at all, the common name; an IP member's reverse-DNS name only
// with AllowReverseDNSLookup), the JDK's (zookeeper.fips-mode=true), or Go's strict rules. With CRL
// or OCSP, the revocation of the chain is checked too. TLS 1.2 is the minimum. Errors name the
// member, the file and what the certificate holds (issuer, expiry date, names, serial).
//
// The files are read again when they change: every new connection uses the current certificate,
// key, CA bundle and CRLs, so short-lived certificates are replaced without a restart and without
// dropping a live session; a replacement that does not load keeps the last good files and is logged
// with the file and why.
//
// Secrets: passwords come from a file, an environment variable or a Secret value; they are never
// logged or put into errors, and Secret prints as "[redacted]".
package zktls
