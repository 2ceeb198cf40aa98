package grpctransport

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/quarkgo/quark/transport"
)

// Service and method of the stream, as they appear on the wire.
const (
	serviceName = "quark.Transport"
	methodName  = "/quark.Transport/Connect"
)

// serviceDesc declares the one bidirectional streaming method, without a
// .proto file: messages are batches of frames, carried by codec.
var serviceDesc = grpc.ServiceDesc{
	ServiceName: serviceName,
	HandlerType: (*any)(nil),
	Streams: []grpc.StreamDesc{{
		StreamName:    "Connect",
		Handler:       func(srv any, ss grpc.ServerStream) error { return srv.(*listener).serve(ss) },
		ServerStreams: true,
		ClientStreams: true,
	}},
}

// Flow-control windows. Setting them turns off gRPC's bandwidth-delay
// estimation, which pings the peer on each received message when messages
// are rare (a ping, its answer and window updates per round trip: a third
// of the round trip's allocations, measured); a fixed window of a few
// batches keeps one connection's throughput while bounding what a slow
// reader lets its peer queue.
const (
	streamWindow = 4 * maxBatch
	connWindow   = 2 * streamWindow
)

// acceptedHeader is the header the accepting side sends once it has
// accepted a stream; Dial returns when it arrives.
var acceptedHeader = metadata.Pairs("quark-transport", "1")

// Transport carries frames over gRPC bidirectional streams, one stream per
// connection. It is safe for concurrent use.
type Transport struct {
	cfg config

	mu     sync.Mutex
	lnUsed bool // the WithListener listener has been served
}

var _ transport.Transport = (*Transport)(nil)

// New returns a Transport configured by opts.
func New(opts ...Option) *Transport {
	t := &Transport{cfg: config{
		maxFrame:  DefaultMaxFrameSize,
		log:       slog.Default(),
		keepalive: Keepalive{Time: DefaultKeepaliveTime, Timeout: DefaultKeepaliveTimeout},
	}}
	for _, o := range opts {
		o.apply(&t.cfg)
	}
	return t
}

// msgLimit is the largest stream message: a full batch, or one frame of
// the maximum size alone, with its length prefix.
func (t *Transport) msgLimit() int {
	return max(maxBatch, t.cfg.maxFrame) + binary.MaxVarintLen64
}

// Listen serves a gRPC server at addr ("127.0.0.1:0" binds a free port),
// or on the WithListener listener. accept is called from gRPC's handler
// goroutine for each stream a peer opens, before the peer's Dial returns.
func (t *Transport) Listen(addr string, accept func(transport.Conn) transport.Handler) (transport.Listener, error) {
	ln, err := t.listener(addr)
	if err != nil {
		return nil, err
	}
	creds := insecure.NewCredentials()
	if t.cfg.tls != nil {
		creds = credentials.NewTLS(t.cfg.tls)
	}
	k := t.cfg.keepalive
	l := &listener{
		t:      t,
		accept: accept,
		addr:   ln.Addr().String(),
		conns:  make(map[*conn]struct{}),
		served: make(chan struct{}),
	}
	l.srv = grpc.NewServer(
		grpc.Creds(loggedCreds{creds, t.cfg.log}),
		grpc.ForceServerCodecV2(codec{}),
		grpc.MaxRecvMsgSize(t.msgLimit()),
		grpc.MaxSendMsgSize(t.msgLimit()),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: k.Time, Timeout: k.Timeout}),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: k.Time / 2, PermitWithoutStream: true}),
		grpc.WaitForHandlers(true),
		grpc.InitialWindowSize(streamWindow),
		grpc.InitialConnWindowSize(connWindow),
	)
	l.srv.RegisterService(&serviceDesc, l)
	go func() {
		defer close(l.served)
		_ = l.srv.Serve(ln) // returns on Stop, the one way it ends
	}()
	return l, nil
}

func (t *Transport) listener(addr string) (net.Listener, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.cfg.listener != nil {
		if t.lnUsed {
			return nil, errors.New("grpctransport: the WithListener listener is already served")
		}
		t.lnUsed = true
		return t.cfg.listener, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("grpctransport: listen: %w", err)
	}
	return ln, nil
}

// Dial opens a grpc.ClientConn to addr and one stream on it, which the
// returned Conn owns; it returns once the accepting side has accepted the
// stream, so a refused TLS handshake (a client certificate the server does
// not trust) or an address nobody listens at returns an error at once.
func (t *Transport) Dial(ctx context.Context, addr string, h transport.Handler) (transport.Conn, error) {
	creds := insecure.NewCredentials()
	if t.cfg.tls != nil {
		creds = credentials.NewTLS(t.cfg.tls)
	}
	k := t.cfg.keepalive
	cc, err := grpc.NewClient("passthrough:///"+addr,
		grpc.WithTransportCredentials(creds),
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: k.Time, Timeout: k.Timeout, PermitWithoutStream: true}),
		grpc.WithDisableRetry(),
		grpc.WithInitialWindowSize(streamWindow),
		grpc.WithInitialConnWindowSize(connWindow),
		grpc.WithDefaultCallOptions(
			grpc.ForceCodecV2(codec{}),
			grpc.MaxCallRecvMsgSize(t.msgLimit()),
			grpc.MaxCallSendMsgSize(t.msgLimit()),
		),
	)
	if err != nil {
		return nil, fmt.Errorf("grpctransport: dial %s: %w", addr, err)
	}
	// The stream outlives ctx, which bounds only its opening.
	sctx, cancel := context.WithCancel(context.Background())
	stopWatch := context.AfterFunc(ctx, cancel)
	cs, err := cc.NewStream(sctx, &serviceDesc.Streams[0], methodName)
	if err == nil {
		var md metadata.MD
		md, err = cs.Header()
		if err == nil && md.Len() == 0 {
			// Ended without headers: the status says why.
			if err = cs.RecvMsg(&inbound{}); err == nil {
				err = errors.New("stream ended before it was accepted")
			}
		}
	}
	if !stopWatch() && err == nil {
		err = ctx.Err()
	}
	if err != nil {
		cancel()
		_ = cc.Close()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("grpctransport: dial %s: %w", addr, ctx.Err())
		}
		if t.cfg.tls != nil && status.Code(err) == codes.Unavailable {
			// In TLS 1.3 the client finishes its handshake before the
			// server verifies the client's certificate: a refusal shows
			// here as a connection that ended.
			return nil, fmt.Errorf("grpctransport: dial %s over TLS (a server that requires client certificates closes the connection of a client it does not trust, and logs why): %w", addr, err)
		}
		return nil, fmt.Errorf("grpctransport: dial %s: %w", addr, err)
	}
	c := newConn(addr, t.cfg.maxFrame, t.cfg.log)
	c.h = h
	c.sendMsg = cs.SendMsg
	c.recvMsg = cs.RecvMsg
	c.stop = cancel
	c.after = func() { _ = cc.Close() }
	go c.readLoop()
	return c, nil
}

// listener is one gRPC server and the connections it accepted.
type listener struct {
	t      *Transport
	accept func(transport.Conn) transport.Handler
	addr   string
	srv    *grpc.Server
	served chan struct{} // closed when Serve has returned

	mu     sync.Mutex
	closed bool
	conns  map[*conn]struct{}
	wg     sync.WaitGroup // receive loops of accepted connections
}

func (l *listener) Addr() string { return l.addr }

// Close stops the server, closes every accepted connection and returns
// once their Handlers' Closed have returned; so it must not be called from
// one of those Handlers.
func (l *listener) Close() error {
	l.mu.Lock()
	first := !l.closed
	l.closed = true
	conns := make([]*conn, 0, len(l.conns))
	for c := range l.conns {
		conns = append(conns, c)
	}
	l.mu.Unlock()
	if first {
		for _, c := range conns {
			c.shutdown(nil)
		}
		// Stop closes the network connections, which ends writes blocked
		// on a peer that does not read.
		l.srv.Stop()
	}
	<-l.served
	l.wg.Wait()
	return nil
}

// serve runs one accepted stream: it is gRPC's handler goroutine. The
// frames are read by another goroutine, since only returning from here
// ends the stream on this side.
func (l *listener) serve(ss grpc.ServerStream) error {
	remote := "unknown"
	if p, ok := peer.FromContext(ss.Context()); ok && p.Addr != nil {
		remote = p.Addr.String()
	}
	c := newConn(remote, l.t.cfg.maxFrame, l.t.cfg.log)
	done := make(chan struct{})
	c.stop = func() { close(done) }
	c.sendMsg = ss.SendMsg
	c.recvMsg = ss.RecvMsg

	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return status.Error(codes.Unavailable, "grpctransport: listener closed")
	}
	l.conns[c] = struct{}{}
	l.wg.Add(1)
	l.mu.Unlock()

	c.h = l.accept(c)
	if err := ss.SendHeader(acceptedHeader); err != nil {
		c.shutdown(fmt.Errorf("grpctransport: accept %s: %w", remote, err))
	}
	go func() {
		defer l.wg.Done()
		c.readLoop()
		l.mu.Lock()
		delete(l.conns, c)
		l.mu.Unlock()
	}()
	<-done
	// Returning ends the stream, which also ends a write in progress that
	// waits on flow control for a peer that does not read: that write
	// fails and the writer finds the connection closed.
	return nil
}
