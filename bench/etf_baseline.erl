%% erl's own ETF speed: the in-run baseline of bench/etf_bench.cpp (DESIGN.md
%% §9: a benchmark runs its baseline in the same run and reports the ratio).
%% The bench starts one erl that compiles this module in memory (the compiler
%% that erlc runs, so the loops below run as compiled code, not in the shell's
%% interpreter) and runs main/0, then asks one line per term.
%%
%% Request:  measure <Text>          Text: the term's source, hex of UTF-8
%% Answer:   result <EncodeCpu> <EncodeWall> <DecodeCpu> <DecodeWall> <Etf>
%%   nanoseconds per term_to_binary(T, [{minor_version, 2}]) and per
%%   binary_to_term(Etf), in CPU time of the whole runtime and in wall-clock
%%   time, and Etf itself (hex) so that the bench can check that both sides
%%   measured the same bytes;
%% or:       error <Reason>
-module(etf_baseline).
-export([main/0]).

%% Each loop grows until one run lasts this long; those runs are the warm-up.
-define(CALIBRATE_NS, 100000000).
%% Then three runs of about this long; the median is the answer.
-define(MEASURE_NS, 250000000).

main() ->
    ok = io:setopts(standard_io, [binary]),
    io:put_chars(["capchan-etf-baseline ready OTP ", erlang:system_info(otp_release), " ",
                  atom_to_list(erlang:system_info(emu_flavor)), $\n]),
    serve().

serve() ->
    case io:get_line("") of
        eof ->
            halt(0);
        {error, Reason} ->
            io:format(standard_error, "etf_baseline: cannot read stdin: ~p~n", [Reason]),
            halt(2);
        Line ->
            Fields = binary:split(string:trim(Line, trailing, "\r\n"), <<" ">>, [global]),
            io:put_chars([answer(Fields), $\n]),
            serve()
    end.

answer([<<"measure">>, TextHex]) ->
    case parse(binary:decode_hex(TextHex)) of
        {ok, T} ->
            Etf = term_to_binary(T, [{minor_version, 2}]),
            {EncodeCpu, EncodeWall} = ns_per_op(encode, T),
            {DecodeCpu, DecodeWall} = ns_per_op(decode, Etf),
            io_lib:format("result ~.3f ~.3f ~.3f ~.3f ~s",
                          [EncodeCpu, EncodeWall, DecodeCpu, DecodeWall, binary:encode_hex(Etf)]);
        {error, Reason} ->
            ["error ", binary:encode_hex(unicode:characters_to_binary(
                                           io_lib:format("~tp", [Reason])))]
    end;
answer(Other) ->
    ["error ", binary:encode_hex(unicode:characters_to_binary(
                                   io_lib:format("bad request ~tp", [Other])))].

parse(Text) ->
    {ok, Tokens, End} = erl_scan:string(unicode:characters_to_list(Text)),
    erl_parse:parse_term(Tokens ++ [{dot, End}]).

%% The loops under measurement. The results are dropped, but the calls stay:
%% both BIFs can raise badarg, so the compiler may not remove them.
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

ns_per_op(Op, Arg) ->
    calibrate(Op, Arg, 1000).

%% {CPU, wall} nanoseconds per op, each the median of three runs.
calibrate(Op, Arg, N) ->
    case run(Op, Arg, N) of
        {_, Wall} when Wall < ?CALIBRATE_NS ->
            calibrate(Op, Arg, N * 2);
        {_, Wall} ->
            M = max(1, round(N * ?MEASURE_NS / Wall)),
            Runs = [run(Op, Arg, M) || _ <- [1, 2, 3]],
            {median([Cpu / M || {Cpu, _} <- Runs]), median([W / M || {_, W} <- Runs])}
    end.

median(Values) ->
    lists:nth(2, lists:sort(Values)).

%% {CPU, wall} nanoseconds of one run of N ops. CPU time is the whole
%% runtime's (all its threads, so garbage collection counts), in milliseconds
%% at best: runs last long enough for that. Which loop runs is chosen by an
%% atom, not passed as a fun: OTP 25's compiler (8.2.3) turns a call through
%% `fun encode_loop/2` into a direct call, infers that the caller never
%% returns, and drops the code after it.
run(Op, Arg, N) ->
    {CpuStart, _} = statistics(runtime),
    Start = erlang:monotonic_time(nanosecond),
    ok = case Op of
             encode -> encode_loop(Arg, N);
             decode -> decode_loop(Arg, N)
         end,
    Wall = erlang:monotonic_time(nanosecond) - Start,
    {CpuEnd, _} = statistics(runtime),
    {(CpuEnd - CpuStart) * 1000000, Wall}.
