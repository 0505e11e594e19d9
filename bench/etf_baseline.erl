%% erl's own ETF speed: the in-run baseline of bench/etf_bench.cpp (DESIGN.md
%% §9: a benchmark runs its baseline in the same run and reports the ratio).
%% The bench starts one erl that compiles this module in memory (the compiler
%% that erlc runs, so the loops below run as compiled code, not in the shell's
%% interpreter) and runs main/0, then sends one request per line. The bench
%% interleaves erl's runs with its own, op by op, so that both sides of a
%% ratio are measured moments apart, and runs the same number of iterations.
%%
%% load <Name> <Text>       Text: the term's source, hex of UTF-8
%%   -> loaded <Etf>        term_to_binary(T, [{minor_version, 2}]), hex, so
%%                          that the bench can check both sides use the same bytes
%% calibrate <Name> <Op>    warms the loop up and grows it until one run takes
%%   -> calibrated <N>      ?RUN_NS; N is then the iteration count of both sides
%% run <Name> <Op> <N>      one run of N iterations
%%   -> ran <Cpu> <Wall>    nanoseconds per iteration, in CPU time of the whole
%%                          runtime (all its threads: garbage collection counts)
%%                          and in wall-clock time
%% or, to any request: error <Reason>
%%
%% Ops: encode  term_to_binary(T, [{minor_version, 2}])
%%      decode  binary_to_term(Etf)
%%      empty   the loop alone, without a call: its cost is subtracted
-module(etf_baseline).
-export([main/0]).

%% A calibrated run takes at least this much CPU time: statistics(runtime)
%% counts milliseconds, so a run must be long enough for that to be fine-grained.
-define(RUN_NS, 200000000).

main() ->
    ok = io:setopts(standard_io, [binary]),
    io:put_chars(["capchan-etf-baseline ready OTP ", erlang:system_info(otp_release), " ",
                  atom_to_list(erlang:system_info(emu_flavor)), $\n]),
    serve(#{}).

serve(Terms) ->
    case io:get_line("") of
        eof ->
            halt(0);
        {error, Reason} ->
            io:format(standard_error, "etf_baseline: cannot read stdin: ~p~n", [Reason]),
            halt(2);
        Line ->
            Fields = binary:split(string:trim(Line, trailing, "\r\n"), <<" ">>, [global]),
            {Answer, Terms1} = try
                                   answer(Fields, Terms)
                               catch
                                   Class:Why -> {error_line({Class, Why}), Terms}
                               end,
            io:put_chars([Answer, $\n]),
            serve(Terms1)
    end.

answer([<<"load">>, Name, TextHex], Terms) ->
    case parse(binary:decode_hex(TextHex)) of
        {ok, T} ->
            Etf = term_to_binary(T, [{minor_version, 2}]),
            {["loaded ", binary:encode_hex(Etf)], Terms#{Name => {T, Etf}}};
        {error, Reason} ->
            {error_line(Reason), Terms}
    end;
answer([<<"calibrate">>, Name, Op], Terms) ->
    N = calibrate(op(Op), arg(op(Op), maps:get(Name, Terms)), 1000),
    {["calibrated ", integer_to_list(N)], Terms};
answer([<<"run">>, Name, Op, N], Terms) ->
    {Cpu, Wall} = run(op(Op), arg(op(Op), maps:get(Name, Terms)), binary_to_integer(N)),
    {io_lib:format("ran ~.3f ~.3f", [Cpu, Wall]), Terms};
answer(Other, Terms) ->
    {error_line({bad_request, Other}), Terms}.

error_line(Reason) ->
    ["error ", binary:encode_hex(unicode:characters_to_binary(io_lib:format("~tp", [Reason])))].

parse(Text) ->
    {ok, Tokens, End} = erl_scan:string(unicode:characters_to_list(Text)),
    erl_parse:parse_term(Tokens ++ [{dot, End}]).

op(<<"encode">>) -> encode;
op(<<"decode">>) -> decode;
op(<<"empty">>) -> empty.

arg(decode, {_T, Etf}) -> Etf;
arg(_, {T, _Etf}) -> T.

%% The loops under measurement. The results are dropped, but the calls stay:
%% each BIF can raise badarg, so the compiler may not remove it.
encode_loop(_T, 0) ->
    ok;
encode_loop(T, N) ->
    _ = term_to_binary(T, [{minor_version, 2}]),
    encode_loop(T, N - 1).

decode_loop(_Etf, 0) ->
    ok;
decode_loop(Etf, N) ->
    _ = binary_to_term(Etf),
    decode_loop(Etf, N - 1).

empty_loop(_T, 0) ->
    ok;
empty_loop(T, N) ->
    empty_loop(T, N - 1).

%% Doubles N until one run takes ?RUN_NS of CPU time (the runs before are
%% the warm-up).
calibrate(Op, Arg, N) ->
    case run(Op, Arg, N) of
        {Cpu, _} when Cpu * N < ?RUN_NS ->
            calibrate(Op, Arg, N * 2);
        _ ->
            N
    end.

%% {CPU, wall} nanoseconds per iteration of one run of N. Which loop runs is
%% chosen by an atom, not passed as a fun: OTP 25's compiler (8.2.3) turns a
%% call through `fun encode_loop/2` into a direct call, infers that the
%% caller never returns, and drops the code after it.
run(Op, Arg, N) ->
    {CpuStart, _} = statistics(runtime),
    Start = erlang:monotonic_time(nanosecond),
    ok = case Op of
             encode -> encode_loop(Arg, N);
             decode -> decode_loop(Arg, N);
             empty -> empty_loop(Arg, N)
         end,
    Wall = erlang:monotonic_time(nanosecond) - Start,
    {CpuEnd, _} = statistics(runtime),
    {(CpuEnd - CpuStart) * 1000000 / N, Wall / N}.
