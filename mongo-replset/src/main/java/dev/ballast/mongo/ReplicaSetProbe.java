package dev.ballast.mongo;

import com.mongodb.ConnectionString;
import com.mongodb.MongoClientSettings;
import com.mongodb.MongoCredential;
import com.mongodb.ReadPreference;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import dev.ballast.rules.MongoReplicaSetConfig;
import dev.ballast.rules.NodeAddress;
import org.bson.BsonTimestamp;
import org.bson.Document;
import org.bson.types.ObjectId;

import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Asks every member of one replica set directly (one direct connection per member, kept open): {@code hello} for its
 * state, optime, config version and electionId, timed for the ping; {@code buildInfo} for its binary version; and
 * {@code replSetGetConfig} / {@code replSetGetStatus} from a reachable member for priorities, hidden members,
 * arbiters and the term. Also sends admin commands to one member ({@link #command}). Not thread-safe for close.
 */
public final class ReplicaSetProbe implements AutoCloseable {

    private final MongoReplicaSetConfig rs;
    private final Map<String, MongoClient> clients = new LinkedHashMap<>();
    private final int timeoutMs;
    private final java.util.concurrent.ExecutorService pool;

    public ReplicaSetProbe(MongoReplicaSetConfig rs, int timeoutMs) {
        this.rs = rs;
        this.timeoutMs = timeoutMs;
        for (NodeAddress a : rs.members()) {
            clients.put(a.toString(), direct(rs, a, timeoutMs));
        }
        this.pool = java.util.concurrent.Executors.newFixedThreadPool(rs.members().size(), r -> {
            Thread t = new Thread(r, "ballast-mongo-probe-" + rs.name());
            t.setDaemon(true);
            return t;
        });
    }

    public ReplicaSetProbe(MongoReplicaSetConfig rs) {
        this(rs, rs.connectTimeoutMs());
    }

    public MongoReplicaSetConfig config() {
        return rs;
    }

    static MongoClient direct(MongoReplicaSetConfig rs, NodeAddress a, int timeoutMs) {
        MongoClientSettings.Builder b = MongoClientSettings.builder()
                .applyConnectionString(new ConnectionString("mongodb://" + a + "/?directConnection=true"))
                .applyToClusterSettings(c -> c.serverSelectionTimeout(timeoutMs, TimeUnit.MILLISECONDS))
                .applyToSocketSettings(s -> s.connectTimeout(timeoutMs, TimeUnit.MILLISECONDS)
                        .readTimeout(Math.max(timeoutMs, 5_000) + TimeUnit.SECONDS.toMillis(rs.stepDownSecs()),
                                TimeUnit.MILLISECONDS))
                .applyToServerSettings(s -> s.heartbeatFrequency(rs.heartbeatFrequencyMs(), TimeUnit.MILLISECONDS))
                .readPreference(ReadPreference.primaryPreferred())
                .retryWrites(false).retryReads(false);
        rs.user().ifPresent(user -> b.credential(MongoCredential.createCredential(user, rs.authSource(),
                rs.password().map(p -> p.reveal().toCharArray()).orElse(new char[0]))));
        return MongoClients.create(b.build());
    }

    /** Runs an admin command on one member; the driver's exceptions pass through. */
    public Document command(String member, Document command) {
        MongoClient c = clients.get(member);
        if (c == null) {
            throw new IllegalArgumentException("[replicaSet=" + rs.name() + "] " + member + " is not a member; members are "
                    + clients.keySet());
        }
        return c.getDatabase("admin").runCommand(command);
    }

    /** Looks at every member now. */
    public ReplicaSetStatus probe() {
        Map<String, Document> hellos = new java.util.concurrent.ConcurrentHashMap<>();
        Map<String, Long> pings = new java.util.concurrent.ConcurrentHashMap<>();
        Map<String, String> versions = new java.util.concurrent.ConcurrentHashMap<>();
        Map<String, String> errors = new java.util.concurrent.ConcurrentHashMap<>();
        List<java.util.concurrent.Future<?>> asked = new ArrayList<>();
        for (String member : clients.keySet()) {
            // members are asked at once: a round lasts as long as the slowest member, at most the timeout
            asked.add(pool.submit(() -> {
                try {
                    long t0 = System.nanoTime();
                    Document hello = command(member, new Document("hello", 1));
                    pings.put(member, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
                    hellos.put(member, hello);
                    Document build = command(member, new Document("buildInfo", 1));
                    versions.put(member, String.valueOf(build.get("version")));
                } catch (RuntimeException e) {
                    errors.put(member, oneLine(e));
                }
            }));
        }
        for (java.util.concurrent.Future<?> f : asked) {
            try {
                f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while probing replica set " + rs.name(), e);
            } catch (java.util.concurrent.ExecutionException e) {
                throw new IllegalStateException(e.getCause());
            }
        }
        Map<String, Document> configMembers = new LinkedHashMap<>();
        long term = -1;
        for (String member : clients.keySet()) {
            if (!hellos.containsKey(member)) {
                continue;
            }
            try {
                Document config = command(member, new Document("replSetGetConfig", 1)).get("config", Document.class);
                for (Document m : config.getList("members", Document.class)) {
                    configMembers.put(m.getString("host"), m);
                }
                Document status = command(member, new Document("replSetGetStatus", 1));
                term = ((Number) status.get("term")).longValue();
                break;
            } catch (RuntimeException e) {
                // another member may answer
            }
        }
        Date primaryWrite = null;
        Date newestWrite = null;
        for (Document h : hellos.values()) {
            Date d = lastWriteDate(h);
            if (d != null && (newestWrite == null || d.after(newestWrite))) {
                newestWrite = d;
            }
            if (Boolean.TRUE.equals(h.getBoolean("isWritablePrimary")) && d != null) {
                primaryWrite = d;
            }
        }
        Date reference = primaryWrite != null ? primaryWrite : newestWrite;
        List<MemberStatus> out = new ArrayList<>();
        for (String member : clients.keySet()) {
            Document cm = configMembers.get(member);
            double priority = cm == null ? 1 : ((Number) cm.get("priority")).doubleValue();
            boolean hidden = cm != null && Boolean.TRUE.equals(cm.get("hidden"));
            boolean arbiter = cm != null && Boolean.TRUE.equals(cm.get("arbiterOnly"));
            Document h = hellos.get(member);
            if (h == null) {
                out.add(new MemberStatus(member, false, "DOWN", -1, 0, -1, -1, -1, "", priority, hidden, arbiter, "",
                        errors.getOrDefault(member, "no answer")));
                continue;
            }
            String state = Boolean.TRUE.equals(h.getBoolean("isWritablePrimary")) ? "PRIMARY"
                    : Boolean.TRUE.equals(h.getBoolean("secondary")) ? "SECONDARY"
                    : Boolean.TRUE.equals(h.getBoolean("arbiterOnly")) ? "ARBITER" : "OTHER";
            arbiter = arbiter || Boolean.TRUE.equals(h.getBoolean("arbiterOnly"));
            hidden = hidden || Boolean.TRUE.equals(h.getBoolean("hidden"));
            long secs = -1;
            int inc = 0;
            Document lastWrite = h.get("lastWrite", Document.class);
            if (lastWrite != null && lastWrite.get("opTime") instanceof Document op && op.get("ts") instanceof BsonTimestamp ts) {
                secs = ts.getTime();
                inc = ts.getInc();
            }
            Date d = lastWriteDate(h);
            long lag = arbiter || d == null || reference == null ? -1 : Math.max(0, reference.getTime() - d.getTime());
            Object electionId = h.get("electionId");
            out.add(new MemberStatus(member, true, state, secs, inc, lag, pings.get(member),
                    h.get("setVersion") instanceof Number n ? n.intValue() : -1,
                    electionId instanceof ObjectId id ? id.toHexString() : "", priority, hidden, arbiter,
                    versions.getOrDefault(member, ""), ""));
        }
        return new ReplicaSetStatus(rs.name(), out, term, System.currentTimeMillis());
    }

    private static Date lastWriteDate(Document hello) {
        Document lastWrite = hello.get("lastWrite", Document.class);
        return lastWrite == null ? null : lastWrite.getDate("lastWriteDate");
    }

    static String oneLine(Throwable e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        int cause = m.indexOf("exception={");
        if (e instanceof com.mongodb.MongoTimeoutException && cause >= 0) {
            // the driver's timeout names the selector and the whole cluster view; the member's own failure is enough
            int end = m.indexOf('}', cause);
            return "unreachable: " + m.substring(cause + "exception={".length(), end < 0 ? m.length() : end);
        }
        if (e instanceof com.mongodb.MongoTimeoutException) {
            return "unreachable: no answer within the timeout";
        }
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }

    @Override
    public void close() {
        pool.shutdownNow();
        clients.values().forEach(MongoClient::close);
    }

}
