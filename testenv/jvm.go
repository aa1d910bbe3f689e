package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// jvm describes one Java process. Every JVM testenv starts — the ZooKeeper servers, the Java peer,
// zkCli — is described by a jvm and gets its command line from argv: one place for the java binary,
// the memory and GC settings, the log4j configuration and the process user. The process layer
// (proc.go) then starts it as a server, a piped peer or a one-shot tool.
type jvm struct {
	// dir receives the log4j configuration, named log4jName.
	dir, log4jName string
	// logFile is where log4j writes, at logLevel (INFO, ERROR) with logPattern (empty:
	// clientLogPattern).
	logFile, logLevel, logPattern string
	// heap is -Xmx (256m when empty); flags are further JVM options (-D properties, --add-exports).
	heap  string
	flags []string
	// classpath entries, main class and its arguments.
	classpath []string
	main      string
	args      []string
	// user runs the JVM as a process user of a Network; the zero value is this process's user.
	user User
}

// clientLogPattern and serverLogPattern are log4j layouts (the server's as ZooKeeper ships it).
const (
	clientLogPattern = "%d{ISO8601} %-5p [%t:%C{1}@%L] - %m%n"
	serverLogPattern = "%d{ISO8601} [myid:%X{myid}] - %-5p [%t:%C{1}@%L] - %m%n"
)

// argv writes the log4j configuration and returns the command line.
func (j jvm) argv() ([]string, error) {
	java, err := lookPath("java")
	if err != nil {
		return nil, err
	}
	pattern := j.logPattern
	if pattern == "" {
		pattern = clientLogPattern
	}
	log4j := filepath.Join(j.dir, j.log4jName)
	props := strings.Join([]string{
		"log4j.rootLogger=" + j.logLevel + ", FILE",
		"log4j.appender.FILE=org.apache.log4j.FileAppender",
		"log4j.appender.FILE.File=" + j.logFile,
		"log4j.appender.FILE.Append=true",
		"log4j.appender.FILE.layout=org.apache.log4j.PatternLayout",
		"log4j.appender.FILE.layout.ConversionPattern=" + pattern,
	}, "\n") + "\n"
	if err := os.WriteFile(log4j, []byte(props), 0o644); err != nil {
		return nil, fmt.Errorf("testenv: writing %s: %w", log4j, err)
	}
	heap := j.heap
	if heap == "" {
		heap = "256m"
	}
	argv := []string{java, "-Xmx" + heap, "-XX:+UseSerialGC", "-XX:-UsePerfData", "-Djava.net.preferIPv4Stack=true",
		"-Dlog4j.configuration=file:" + log4j}
	argv = append(argv, j.flags...)
	argv = append(argv, "-cp", strings.Join(j.classpath, ":"), j.main)
	argv = append(argv, j.args...)
	return j.user.Argv(argv), nil
}

// debianJars are jars of Debian's /usr/share/java.
func debianJars(jars ...string) []string {
	paths := make([]string, len(jars))
	for i, j := range jars {
		paths[i] = filepath.Join(debianJava, j)
	}
	return paths
}

// serverClasspath is what each server needs beyond the jar's manifest (see DESIGN.md §9).
func serverClasspath(v Version) []string {
	if v == ZK34 {
		d := Zk34Dir()
		return []string{filepath.Join(d, "zookeeper.jar"), filepath.Join(d, "slf4j-api.jar"),
			filepath.Join(d, "slf4j-log4j12.jar"), filepath.Join(d, "log4j-1.2.jar")}
	}
	return debianJars("zookeeper.jar", "zookeeper-jute.jar", "slf4j-api.jar", "slf4j-log4j12.jar", "log4j-1.2.jar",
		"netty-codec.jar", "netty-resolver.jar", "netty-transport-native-unix-common.jar")
}

// clientClasspath is what the Java clients need: the 3.8 client (the 3.4.13 client breaks on Java
// 14+; the 3.8 client speaks to 3.4 servers too), Netty for TLS, log4j, and Curator 5.4.
func clientClasspath() []string {
	return debianJars("zookeeper.jar", "zookeeper-jute.jar", "slf4j-api.jar", "slf4j-log4j12.jar", "log4j-1.2.jar",
		"netty-codec.jar", "netty-resolver.jar", "netty-transport-native-unix-common.jar", "netty-handler.jar",
		"netty-buffer.jar", "netty-common.jar", "netty-transport.jar", "netty-transport-native-epoll.jar",
		"curator-client.jar", "curator-framework.jar", "curator-recipes.jar", "guava.jar")
}
