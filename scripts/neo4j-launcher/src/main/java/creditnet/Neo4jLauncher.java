package creditnet;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;

import org.neo4j.configuration.GraphDatabaseInternalSettings;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.graphdb.GraphDatabaseService;
import org.neo4j.io.ByteUnit;

/**
 * Embedded Neo4j Community DBMS serving Bolt on 127.0.0.1, for local development and tests.
 *
 * <p>Usage: {@code java ... -jar neo4j-launcher.jar [--port N] [--data DIR] [--pagecache SIZE]
 * [--tx-timeout SECONDS]}. Each option falls back to an env var (NEO4J_LOCAL_PORT, NEO4J_LOCAL_DATA,
 * NEO4J_LOCAL_PAGECACHE, NEO4J_LOCAL_TX_TIMEOUT) and then to a default (7687, ./neo4j-data, 512m,
 * 300). Auth is disabled. SIGTERM/SIGINT shut the DBMS down cleanly. Prints a line starting with
 * "NEO4J-LOCAL READY" once Bolt is serving.
 */
public final class Neo4jLauncher {

    private Neo4jLauncher() {}

    public static void main(String[] args) throws Exception {
        String port = env("NEO4J_LOCAL_PORT", "7687");
        String data = env("NEO4J_LOCAL_DATA", "neo4j-data");
        String pagecache = env("NEO4J_LOCAL_PAGECACHE", "512m");
        String txTimeout = env("NEO4J_LOCAL_TX_TIMEOUT", "300");

        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            String v = (i + 1 < args.length) ? args[i + 1] : null;
            switch (a) {
                case "--port" -> { port = require(a, v); i++; }
                case "--data" -> { data = require(a, v); i++; }
                case "--pagecache" -> { pagecache = require(a, v); i++; }
                case "--tx-timeout" -> { txTimeout = require(a, v); i++; }
                case "-h", "--help" -> {
                    System.out.println("usage: neo4j-launcher [--port N] [--data DIR] [--pagecache SIZE] [--tx-timeout SECONDS]");
                    return;
                }
                default -> {
                    System.err.println("unknown argument: " + a);
                    System.exit(2);
                }
            }
        }

        int portNumber = Integer.parseInt(port);
        Path home = Path.of(data).toAbsolutePath().normalize();
        Files.createDirectories(home);

        long start = System.nanoTime();
        final DatabaseManagementService managementService;
        try {
            managementService = new DatabaseManagementServiceBuilder(home)
                    .setConfig(BoltConnector.enabled, true)
                    .setConfig(BoltConnector.listen_address, new SocketAddress("127.0.0.1", portNumber))
                    .setConfig(BoltConnector.advertised_address, new SocketAddress("127.0.0.1", portNumber))
                    .setConfig(GraphDatabaseSettings.auth_enabled, false)
                    .setConfig(GraphDatabaseSettings.pagecache_memory, parseBytes(pagecache))
                    // A runaway test query gets killed instead of hanging the suite; 0 disables.
                    .setConfig(GraphDatabaseSettings.transaction_timeout, Duration.ofSeconds(Long.parseLong(txTimeout)))
                    .setConfig(GraphDatabaseSettings.lock_acquisition_timeout, Duration.ofSeconds(60))
                    // On shutdown, give running transactions a short grace period, then terminate them.
                    .setConfig(GraphDatabaseSettings.shutdown_transaction_end_timeout, Duration.ofSeconds(5))
                    // Local/test server: keep transaction logs small. By default each database
                    // preallocates a 256 MiB log file (≈0.5 GB on disk for system + neo4j).
                    .setConfig(GraphDatabaseSettings.keep_logical_logs, "1 files")
                    .setConfig(GraphDatabaseSettings.logical_log_rotation_threshold, ByteUnit.mebiBytes(32))
                    .setConfig(GraphDatabaseSettings.preallocate_logical_logs, false)
                    // Bolt's Netty event loops otherwise wait a 5 s quiet period per connector on
                    // shutdown (~10 s per stop); internal settings, checked against 5.26.30.
                    .setConfig(GraphDatabaseInternalSettings.netty_server_shutdown_quiet_period, 0)
                    .setConfig(GraphDatabaseInternalSettings.netty_server_shutdown_timeout, Duration.ofSeconds(5))
                    .build();
        } catch (Throwable t) {
            // Without this, non-daemon threads started before the failure can keep the JVM alive.
            System.err.println("NEO4J-LOCAL FAILED to start: " + t);
            t.printStackTrace();
            System.err.flush();
            Runtime.getRuntime().halt(1);
            return;
        }

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("NEO4J-LOCAL shutting down");
            System.out.flush();
            try {
                managementService.shutdown();
            } catch (Throwable t) {
                t.printStackTrace();
            } finally {
                stopped.countDown();
            }
            System.out.println("NEO4J-LOCAL stopped");
            System.out.flush();
        }, "neo4j-local-shutdown"));

        // Make sure the default database is actually up before announcing readiness.
        GraphDatabaseService db = managementService.database(GraphDatabaseSettings.DEFAULT_DATABASE_NAME);
        if (!db.isAvailable(Duration.ofSeconds(120).toMillis())) {
            System.err.println("NEO4J-LOCAL database did not become available");
            System.exit(1);
        }
        long ms = (System.nanoTime() - start) / 1_000_000;
        System.out.printf("NEO4J-LOCAL READY bolt://127.0.0.1:%d data=%s pagecache=%s (started in %d ms)%n",
                portNumber, home, pagecache, ms);
        System.out.flush();

        stopped.await();
    }

    private static String env(String name, String dflt) {
        String v = System.getenv(name);
        return (v == null || v.isBlank()) ? dflt : v.trim();
    }

    private static String require(String flag, String value) {
        if (value == null) {
            System.err.println("missing value for " + flag);
            System.exit(2);
        }
        return value;
    }

    /** Parses sizes like 512m, 1g, 64k or plain bytes. */
    static long parseBytes(String s) {
        String t = s.trim().toLowerCase();
        char unit = t.charAt(t.length() - 1);
        if (Character.isDigit(unit)) {
            return Long.parseLong(t);
        }
        long n = Long.parseLong(t.substring(0, t.length() - 1).trim());
        return switch (unit) {
            case 'k' -> ByteUnit.kibiBytes(n);
            case 'm' -> ByteUnit.mebiBytes(n);
            case 'g' -> ByteUnit.gibiBytes(n);
            default -> throw new IllegalArgumentException("bad size: " + s);
        };
    }
}
