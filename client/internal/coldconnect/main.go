// Command coldconnect is a benchmark's cold process (client.BenchmarkColdConnect): it does what a
// short-lived Go program does with zksecure — client.Connect, one Exists, Close — once, and exits
// (0, or 1 with the error on stderr). The benchmark builds it with go build and times it from exec
// to exit; it is internal, so it is never part of a user's binary.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/zksecure/zksecure/auth/sasl"
	zktls "github.com/zksecure/zksecure/auth/tls"
	"github.com/zksecure/zksecure/client"
)

func main() {
	members := flag.String("members", "", "comma-separated host:port of the members")
	ca := flag.String("ca", "", "CA file: TLS when set")
	cert := flag.String("cert", "", "client certificate and key (PEM), with -ca")
	principal := flag.String("principal", "", "Kerberos principal: SASL when set")
	keytab := flag.String("keytab", "", "keytab of -principal")
	krb5 := flag.String("krb5conf", "", "krb5.conf")
	debug := flag.Bool("debug", false, "log client.Connect's phases and their timings on stderr")
	flag.Parse()
	log := slog.New(slog.DiscardHandler)
	if *debug {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if err := run(log, *members, *ca, *cert, *principal, *keytab, *krb5); err != nil {
		fmt.Fprintln(os.Stderr, "coldconnect:", err)
		os.Exit(1)
	}
}

func run(log *slog.Logger, members, ca, cert, principal, keytab, krb5 string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg := client.Config{Members: strings.Split(members, ","), SessionTimeout: 10 * time.Second, Logger: log}
	if ca != "" {
		cfg.TLS = &zktls.Config{CAFile: ca, CertFile: cert}
	} else {
		cfg.Transport = client.TransportPlaintext
	}
	if principal != "" {
		cfg.SASL = client.SASLKerberos
		cfg.Kerberos = sasl.Config{Login: sasl.Login{Principal: principal, Keytab: keytab, Krb5Conf: krb5}}
	}
	c, err := client.Connect(ctx, cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, _, err := c.Exists(ctx, "/"); err != nil {
		return err
	}
	return nil
}
