package hatest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/zksecure/zksecure/auth/sasl"
	zktls "github.com/zksecure/zksecure/auth/tls"
	"github.com/zksecure/zksecure/client"
	"github.com/zksecure/zksecure/election"
)

// peerEnv carries a peer's configuration (JSON) into a re-executed test binary: a Go contender in
// a process of its own, under its own user, so that a fault can cut or crash it alone.
const peerEnv = "HATEST_PEER"

type peerConfig struct {
	Name           string
	Members        []string
	ClusterID      string
	Principal      string
	Keytab         string
	Krb5Conf       string
	CAFile         string
	CertFile       string
	KeyFile        string
	SessionTimeout time.Duration
	Tolerate       bool // election.Options.TolerateSuspendedConnections of the peer's election
	LogFile        string
}

// The peer's protocol, one line each on stdout:
//
//	ready <µs> <session hex>          connected (authenticated)
//	lead <µs> <node>                  Campaign returned: this contender leads
//	unlead <µs> <reason>              Done closed (or resigned): it no longer leads
//	state <µs> <state> <member>       a connection state change
//	authfailed <µs> <error>           the client ended in AuthFailed
//	fatal <message>                   the peer gave up (then exits 1)
//
// and it reads commands on stdin: "resign" (give up leadership, campaign again) and "quit" (close
// the client gracefully and exit 0).
func runPeer(raw string) int {
	var cfg peerConfig
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		fmt.Printf("fatal bad %s: %v\n", peerEnv, err)
		return 1
	}
	out := &lineWriter{w: os.Stdout}
	logger := slog.New(slog.DiscardHandler)
	if cfg.LogFile != "" {
		if f, err := os.OpenFile(cfg.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644); err == nil {
			defer f.Close()
			logger = slog.New(slog.NewTextHandler(f, &slog.HandlerOptions{Level: slog.LevelDebug}))
		}
	}
	os.Setenv("KRB5_CONFIG", cfg.Krb5Conf)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ccfg := client.Config{
		Members:           cfg.Members,
		ClusterID:         cfg.ClusterID,
		SessionTimeout:    cfg.SessionTimeout,
		ConnectionTimeout: 30 * time.Second,
		// Flink's defaults scaled to the 4 s session timeout: a 5 s retry wait against 60 s.
		RetryWait: cfg.SessionTimeout / 12,
		SASL:      client.SASLKerberos,
		Kerberos:  sasl.Config{Login: sasl.Login{Principal: cfg.Principal, Keytab: cfg.Keytab, Krb5Conf: cfg.Krb5Conf}},
		Logger:    logger,
	}
	if cfg.CAFile != "" {
		ccfg.TLS = &zktls.Config{CAFile: cfg.CAFile, CertFile: cfg.CertFile, KeyFile: cfg.KeyFile}
	}
	c, err := client.Connect(ctx, ccfg)
	if err != nil {
		out.line("fatal connect: %v", err)
		return 1
	}
	defer c.Close()
	states, stopStates := c.States()
	defer stopStates()
	go func() {
		for ev := range states {
			out.line("state %d %s %s", us(ev.At), ev.State, ev.Member)
			if ev.State == client.AuthFailed {
				out.line("authfailed %d %s", us(time.Now()), oneLine(ev.Err))
			}
		}
	}()
	out.line("ready %d %x", us(time.Now()), c.SessionID())

	e, err := election.New(c, election.Options{Logger: logger, TolerateSuspendedConnections: cfg.Tolerate})
	if err != nil {
		out.line("fatal election: %v", err)
		return 1
	}
	cmds := make(chan string)
	go func() {
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			cmds <- strings.TrimSpace(sc.Text())
		}
		close(cmds)
	}()
	quit := func() int {
		c.Close()
		return 0
	}
	for {
		campaignCtx, stop := context.WithCancel(ctx)
		type result struct {
			l   *election.Leadership
			err error
		}
		res := make(chan result, 1)
		go func() {
			l, err := e.Campaign(campaignCtx, []byte(cfg.Name))
			res <- result{l, err}
		}()
		var l *election.Leadership
		select {
		case r := <-res:
			if r.err != nil {
				stop()
				if errors.Is(r.err, client.ErrClosed) || c.Err() != nil {
					out.line("fatal campaign: %v", oneLine(r.err))
					return 1
				}
				time.Sleep(200 * time.Millisecond)
				continue
			}
			l = r.l
			out.line("lead %d %s", us(time.Now()), l.Node())
		case cmd, ok := <-cmds:
			stop()
			<-res
			if !ok || cmd == "quit" {
				return quit()
			}
			continue
		}
		select {
		case <-l.Done():
			out.line("unlead %d %s", us(time.Now()), oneLine(l.Err()))
			stop()
		case cmd, ok := <-cmds:
			// Stop believing first, then act: the timeline must never show us leading past this.
			out.line("unlead %d %s", us(time.Now()), "resigned")
			rctx, rcancel := context.WithTimeout(ctx, 10*time.Second)
			l.Resign(rctx)
			rcancel()
			stop()
			if !ok || cmd == "quit" {
				return quit()
			}
		}
	}
}

func us(t time.Time) int64 { return t.UnixMicro() }

func oneLine(err error) string {
	if err == nil {
		return "-"
	}
	return strings.ReplaceAll(err.Error(), "\n", " ")
}

// lineWriter writes whole lines from several goroutines.
type lineWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lineWriter) line(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, format+"\n", args...)
}
