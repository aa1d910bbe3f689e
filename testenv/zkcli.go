package testenv

import (
	"context"
	"os"
	"path/filepath"
	"time"
)

// RunZkCli runs the Java ZooKeeper CLI (ZooKeeperMain) once, as an operator would — a fresh JVM,
// with the SASL and TLS settings of opts — and returns its output and wall time.
func RunZkCli(ctx context.Context, opts JavaClientOptions, server string, args ...string) (string, time.Duration, error) {
	dir, own, err := workDir(opts.Dir, "zksecure-zkcli-")
	if err != nil {
		return "", 0, err
	}
	if own {
		defer os.RemoveAll(dir)
	}
	argv, err := jvm{dir: dir, log4jName: "log4j-zkcli.properties", logFile: filepath.Join(dir, "zkcli.log"), logLevel: "ERROR",
		flags: clientFlags(opts), classpath: clientClasspath(), main: "org.apache.zookeeper.ZooKeeperMain",
		args: append([]string{"-server", server}, args...), user: opts.User}.argv()
	if err != nil {
		return "", 0, err
	}
	t0 := time.Now()
	out, err := runTool(ctx, nil, "", argv...)
	return out, time.Since(t0), err
}
