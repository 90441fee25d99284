// Command otlpbench is the load generator and the sink of bench/passthrough.ts: both sides of an
// OTLP/gRPC pass-through measurement, written so that neither is the bottleneck.
//
//	otlpbench sink -addr 127.0.0.1:4319
//	otlpbench load -target 127.0.0.1:4317 [-concurrency 8] [-spans 100] [-rate 0]
//
// Payloads are encoded once at start-up and sent as raw bytes; the sink counts spans by walking the
// protobuf wire format (three nested length-delimited fields) without decoding anything else. Both
// print one JSON line of cumulative counters every -every (default 250ms) on stdout, which the
// harness reads; they run until killed.
package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	common "go.opentelemetry.io/proto/otlp/common/v1"
	resource "go.opentelemetry.io/proto/otlp/resource/v1"
	trace "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

const exportMethod = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"

// rawCodec passes message bytes through: the load generator sends pre-encoded requests, the sink
// reads the request's bytes and answers an empty ExportTraceServiceResponse.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) {
	if b, ok := v.(*[]byte); ok {
		return *b, nil
	}
	return nil, fmt.Errorf("rawCodec: cannot marshal %T", v)
}

func (rawCodec) Unmarshal(data []byte, v any) error {
	if b, ok := v.(*[]byte); ok {
		*b = data
		return nil
	}
	return fmt.Errorf("rawCodec: cannot unmarshal into %T", v)
}

func (rawCodec) Name() string { return "proto" }

var _ encoding.Codec = rawCodec{}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: otlpbench sink|load [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "sink":
		err = sink(os.Args[2:])
	case "load":
		err = load(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q (sink|load)", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "otlpbench:", err)
		os.Exit(1)
	}
}

// report prints the counters as one JSON line every `every` until the process ends.
func report(every time.Duration, snapshot func() map[string]any) {
	enc := json.NewEncoder(os.Stdout)
	start := time.Now()
	for range time.Tick(every) {
		m := snapshot()
		m["t_ms"] = time.Since(start).Milliseconds()
		_ = enc.Encode(m)
	}
}

// ---- sink ----

// countSpans walks ExportTraceServiceRequest.resource_spans(1) -> ResourceSpans.scope_spans(2) ->
// ScopeSpans.spans(2) and counts the spans without decoding them.
func countSpans(b []byte) (int, error) {
	n := 0
	err := eachField(b, 1, func(rs []byte) error {
		return eachField(rs, 2, func(ss []byte) error {
			return eachField(ss, 2, func([]byte) error { n++; return nil })
		})
	})
	return n, err
}

// eachField calls fn with the bytes of every length-delimited field `num` of message b.
func eachField(b []byte, num protowire.Number, fn func([]byte) error) error {
	for len(b) > 0 {
		n, typ, l := protowire.ConsumeTag(b)
		if l < 0 {
			return protowire.ParseError(l)
		}
		b = b[l:]
		if n == num && typ == protowire.BytesType {
			v, l := protowire.ConsumeBytes(b)
			if l < 0 {
				return protowire.ParseError(l)
			}
			if err := fn(v); err != nil {
				return err
			}
			b = b[l:]
			continue
		}
		l = protowire.ConsumeFieldValue(n, typ, b)
		if l < 0 {
			return protowire.ParseError(l)
		}
		b = b[l:]
	}
	return nil
}

func sink(args []string) error {
	fs := flag.NewFlagSet("sink", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	every := fs.Duration("every", 250*time.Millisecond, "report interval")
	_ = fs.Parse(args)

	var spans, requests, bytes, bad atomic.Int64
	lis, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	empty := []byte{}
	handler := func(_ any, _ context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
		var in []byte
		if err := dec(&in); err != nil {
			return nil, err
		}
		n, err := countSpans(in)
		if err != nil {
			bad.Add(1)
		}
		spans.Add(int64(n))
		requests.Add(1)
		bytes.Add(int64(len(in)))
		return &empty, nil
	}
	srv := grpc.NewServer(grpc.ForceServerCodec(rawCodec{}), grpc.MaxRecvMsgSize(256<<20))
	srv.RegisterService(&grpc.ServiceDesc{
		ServiceName: "opentelemetry.proto.collector.trace.v1.TraceService",
		HandlerType: (*any)(nil),
		Methods:     []grpc.MethodDesc{{MethodName: "Export", Handler: handler}},
	}, struct{}{})
	fmt.Fprintf(os.Stderr, "sink listening on %s\n", lis.Addr())
	go report(*every, func() map[string]any {
		return map[string]any{"spans": spans.Load(), "requests": requests.Load(), "bytes": bytes.Load(), "bad": bad.Load()}
	})
	return srv.Serve(lis)
}

// ---- load ----

func str(k, v string) *common.KeyValue {
	return &common.KeyValue{Key: k, Value: &common.AnyValue{Value: &common.AnyValue_StringValue{StringValue: v}}}
}
func integer(k string, v int64) *common.KeyValue {
	return &common.KeyValue{Key: k, Value: &common.AnyValue{Value: &common.AnyValue_IntValue{IntValue: v}}}
}
func double(k string, v float64) *common.KeyValue {
	return &common.KeyValue{Key: k, Value: &common.AnyValue{Value: &common.AnyValue_DoubleValue{DoubleValue: v}}}
}

// request builds one LLM-like request: one resource, one scope, `spans` client spans with ten GenAI
// and HTTP attributes and a gen_ai.choice event each. `seq` makes trace and span ids unique.
func request(seq, spans int) []byte {
	now := uint64(time.Now().UnixNano())
	ss := make([]*trace.Span, spans)
	for i := range ss {
		tid := make([]byte, 16)
		sid := make([]byte, 8)
		binary.BigEndian.PutUint64(tid, uint64(seq))
		binary.BigEndian.PutUint64(tid[8:], uint64(i)|0x0af7651916cd0000)
		binary.BigEndian.PutUint64(sid, uint64(seq)<<20|uint64(i)+1)
		ss[i] = &trace.Span{
			TraceId:           tid,
			SpanId:            sid,
			ParentSpanId:      []byte{0xb7, 0xad, 0x6b, 0x71, 0x69, 0x20, 0x33, 0x31},
			Name:              "chat gpt-4o",
			Kind:              trace.Span_SPAN_KIND_CLIENT,
			StartTimeUnixNano: now,
			EndTimeUnixNano:   now + 1_500_000_000,
			Attributes: []*common.KeyValue{
				str("gen_ai.operation.name", "chat"),
				str("gen_ai.provider.name", "openai"),
				str("gen_ai.request.model", "gpt-4o"),
				integer("gen_ai.usage.input_tokens", 812),
				integer("gen_ai.usage.output_tokens", 96),
				str("server.address", "api.openai.com"),
				integer("server.port", 443),
				str("http.request.method", "POST"),
				integer("http.response.status_code", 200),
				double("gen_ai.request.temperature", 0.2),
			},
			Events: []*trace.Span_Event{{
				TimeUnixNano: now + 10,
				Name:         "gen_ai.choice",
				Attributes:   []*common.KeyValue{integer("index", 0), str("gen_ai.response.finish_reason", "stop")},
			}},
			Status: &trace.Status{Code: trace.Status_STATUS_CODE_OK},
		}
	}
	req := &collectortrace.ExportTraceServiceRequest{ResourceSpans: []*trace.ResourceSpans{{
		Resource: &resource.Resource{Attributes: []*common.KeyValue{
			str("service.name", "bench-agent"), integer("process.pid", 1234), str("host.name", "bench"),
		}},
		ScopeSpans: []*trace.ScopeSpans{{Scope: &common.InstrumentationScope{Name: "bench", Version: "1"}, Spans: ss}},
	}}}
	b, err := proto.Marshal(req)
	if err != nil {
		panic(err)
	}
	return b
}

func load(args []string) error {
	fs := flag.NewFlagSet("load", flag.ExitOnError)
	target := fs.String("target", "127.0.0.1:4317", "collector OTLP/gRPC address")
	concurrency := fs.Int("concurrency", 8, "requests in flight at most")
	spans := fs.Int("spans", 100, "spans per request")
	rate := fs.Float64("rate", 0, "spans/s to offer; 0 = closed loop (each sender sends its next request when the last is answered)")
	distinct := fs.Int("distinct", 64, "distinct pre-encoded requests, sent round robin")
	every := fs.Duration("every", 250*time.Millisecond, "report interval")
	backoff := fs.Duration("refused-backoff", 20*time.Millisecond, "sender pause after a refused request")
	_ = fs.Parse(args)

	payloads := make([][]byte, *distinct)
	for i := range payloads {
		payloads[i] = request(i, *spans)
	}
	conn, err := grpc.NewClient(*target,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodec(rawCodec{})),
	)
	if err != nil {
		return err
	}
	defer conn.Close()

	var sentSpans, okRequests, refused, missed atomic.Int64
	fmt.Fprintf(os.Stderr, "load: %d-span requests of %d bytes to %s\n", *spans, len(payloads[0]), *target)
	go report(*every, func() map[string]any {
		return map[string]any{"sent_spans": sentSpans.Load(), "ok_requests": okRequests.Load(), "refused": refused.Load(), "missed": missed.Load()}
	})

	var seq atomic.Int64
	send := func() {
		p := payloads[int(seq.Add(1))%len(payloads)]
		var out []byte
		err := conn.Invoke(context.Background(), exportMethod, &p, &out)
		if err != nil {
			refused.Add(1)
			time.Sleep(*backoff)
			return
		}
		okRequests.Add(1)
		sentSpans.Add(int64(*spans))
	}

	var wg sync.WaitGroup
	if *rate <= 0 {
		for range *concurrency {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					send()
				}
			}()
		}
		wg.Wait()
		return nil
	}
	// Open loop: a pacer offers one request every spans/rate seconds to `concurrency` senders; an
	// offer no sender is free to take is counted as missed (the collector could not keep up).
	ticks := make(chan struct{}, *concurrency)
	for range *concurrency {
		go func() {
			for range ticks {
				send()
			}
		}()
	}
	interval := time.Duration(float64(time.Second) * float64(*spans) / *rate)
	next := time.Now()
	for {
		next = next.Add(interval)
		if d := time.Until(next); d > 0 {
			time.Sleep(d)
		}
		select {
		case ticks <- struct{}{}:
		default:
			missed.Add(1)
		}
	}
}

