%% The erl side of tests/core/oracle_test.cpp: erl is the oracle for capchan's
%% term model, ETF codec and text syntax (DESIGN.md §2). The test starts one erl
%% that compiles this module in memory and runs main/0, then asks one line per
%% term. Payloads are hex (erl's stdout under -noshell is a latin1 device).
%%
%% Request:  term <Text> <Ours>
%%   Text: the term's source text, UTF-8; Ours: capchan's ETF encoding of the
%%   term it parsed from Text, or "-" when capchan could not parse it.
%% Answer:   ok <Etf> <Printed> <TpCheck> <OursCheck>
%%   Etf: term_to_binary(T, [{minor_version, 2}]);
%%   Printed: io_lib:format("~999999tp", [T]) as UTF-8 (the field width is
%%   the line length, so the text stays on one line);
%%   TpCheck: same | multiline | differs: whether plain "~tp" printed the same
%%   text, which is checkable whenever "~tp" kept to one line;
%%   OursCheck: equal | none | badarg | differs:<hex of ~w of what Ours decodes to>.
%% or:       error <Reason>  when erl cannot read Text as a term.
-module(oracle).
-export([main/0]).

main() ->
    ok = io:setopts(standard_io, [binary]),
    io:put_chars(["capchan-oracle ready OTP ", erlang:system_info(otp_release), $\n]),
    serve().

serve() ->
    case io:get_line("") of
        eof ->
            halt(0);
        {error, Reason} ->
            io:format(standard_error, "oracle: cannot read stdin: ~p~n", [Reason]),
            halt(2);
        Line ->
            Fields = binary:split(string:trim(Line, trailing, "\r\n"), <<" ">>, [global]),
            io:put_chars([answer(Fields), $\n]),
            serve()
    end.

answer([<<"term">>, TextHex, OursHex]) ->
    case parse(binary:decode_hex(TextHex)) of
        {ok, T} ->
            Etf = term_to_binary(T, [{minor_version, 2}]),
            Wide = unicode:characters_to_binary(io_lib:format("~999999tp", [T])),
            Plain = unicode:characters_to_binary(io_lib:format("~tp", [T])),
            TpCheck = if
                          Plain =:= Wide -> <<"same">>;
                          true ->
                              case binary:match(Plain, <<"\n">>) of
                                  nomatch -> <<"differs">>;
                                  _ -> <<"multiline">>
                              end
                      end,
            [<<"ok ">>, binary:encode_hex(Etf), $\s, binary:encode_hex(Wide), $\s, TpCheck, $\s,
             check_ours(OursHex, T)];
        {error, Reason} ->
            [<<"error ">>, binary:encode_hex(unicode:characters_to_binary(
                                                 io_lib:format("~tp", [Reason])))]
    end;
answer(Other) ->
    [<<"error ">>, binary:encode_hex(unicode:characters_to_binary(
                                         io_lib:format("bad request ~tp", [Other])))].

%% The term that Text denotes, as erl reads it: scanned and parsed as one term
%% (parse_term wants the final dot, which the text may leave out).
parse(Text) ->
    case unicode:characters_to_list(Text) of
        Chars when is_list(Chars) ->
            case erl_scan:string(Chars) of
                {ok, Tokens, End} ->
                    erl_parse:parse_term(with_dot(Tokens, End));
                {error, Error, _} ->
                    {error, Error}
            end;
        _ ->
            {error, not_utf8}
    end.

with_dot(Tokens, End) ->
    case lists:reverse(Tokens) of
        [{dot, _} | _] -> Tokens;
        _ -> Tokens ++ [{dot, End}]
    end.

%% Whether capchan's encoding reads back in erl as the very same term (=:=).
check_ours(<<"-">>, _T) ->
    <<"none">>;
check_ours(OursHex, T) ->
    try binary_to_term(binary:decode_hex(OursHex)) of
        T -> <<"equal">>;
        Other -> [<<"differs:">>, binary:encode_hex(unicode:characters_to_binary(
                                                       io_lib:format("~tw", [Other])))]
    catch
        error:badarg -> <<"badarg">>
    end.
