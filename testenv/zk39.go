package testenv

import "path/filepath"

// ZK39 is ZooKeeper 3.9.3 from Debian trixie, unpacked into Zk39Dir with every jar its server needs.
// It speaks TLS 1.3 by default (3.9.2+) and answers whoAmI (3.7+).
const ZK39 Version = "3.9"

// zk39Jars is the 3.9 server's classpath, in order. Its own zookeeper-jute.jar comes before
// zookeeper.jar: the jar's manifest Class-Path names /usr/share/java/zookeeper-jute.jar (the system
// 3.8 one), which would otherwise win, and every connect would then die with NoSuchMethodError
// ConnectRequest.setReadOnly. Netty comes as separate jars (trixie's netty-all.jar alone is not
// enough); the rest are what the server loads (metrics-core, snappy for snapshots, jackson for the
// command output, commons-cli/io).
var zk39Jars = []string{
	"zookeeper-jute.jar",
	"slf4j-api.jar", "slf4j-log4j12.jar", "log4j-1.2.jar",
	"netty-buffer.jar", "netty-codec.jar", "netty-common.jar", "netty-handler.jar", "netty-resolver.jar",
	"netty-transport.jar", "netty-transport-native-epoll.jar", "netty-transport-native-unix-common.jar",
	"commons-cli.jar", "commons-io.jar", "metrics-core.jar", "snappy-java.jar",
	"jackson-databind.jar", "jackson-core.jar", "jackson-annotations.jar",
	"zookeeper.jar",
}

func zk39Classpath() []string {
	d := Zk39Dir()
	paths := make([]string, len(zk39Jars))
	for i, j := range zk39Jars {
		paths[i] = filepath.Join(d, j)
	}
	return paths
}

// knownVersion reports whether testenv can run v.
func knownVersion(v Version) bool { return v == ZK38 || v == ZK34 || v == ZK39 }
