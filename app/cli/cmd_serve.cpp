// CLI command serve (see Commands.h):
//   xopd serve --model DIR [--host 127.0.0.1] [--port 8000] [--api-key-env VAR] [--served-model-name NAME]
//              [--device cpu] [--max-model-len N] [--max-batch N] [--max-batch-tokens N] [--max-logprobs K]
//              [--max-body-bytes N] [--batch-window-ms MS]
// Serves a text model in the OpenAI-compatible format (core/serve/TeacherServer.h) so that a
// trainer elsewhere can use it as its teacher (`xopd distill --teacher-url`). Binding beyond
// loopback needs a key, read from the environment variable --api-key-env names (never from the
// command line, where `ps` would show it). Prints "xopd serve: listening on http://HOST:PORT" once
// it accepts connections; SIGINT / SIGTERM stop it (exit 0).
#include "app/cli/Commands.h"
#include "core/common/Error.h"
#include "core/serve/TeacherServer.h"

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <thread>

namespace xopd::cli {
namespace {

std::atomic<int> g_serve_stop{0};
void onServeStop(int signo) { g_serve_stop = signo; }

}  // namespace

void addServeCommand(CLI::App& app, Action& run) {
    struct Args {
        serve::TeacherServerOptions o;
        std::string api_key_env;
    };
    auto a = std::make_shared<Args>();
    auto* cmd = app.add_subcommand("serve", "Serve a text model over HTTP (OpenAI-compatible completions with prompt log-probs) as a teacher");
    cmd->add_option("--model", a->o.model_dir, "Hugging Face folder of the model")->required();
    cmd->add_option("--host", a->o.host, "interface to bind (default 127.0.0.1; anything else needs --api-key-env)");
    cmd->add_option("--port", a->o.port, "port (0 = any free port, printed)")->check(CLI::Range(0, 65535));
    cmd->add_option("--api-key-env", a->api_key_env, "environment variable holding the Bearer key clients must send");
    cmd->add_option("--served-model-name", a->o.served_model_name, "model name clients ask for (default: the folder's name)");
    cmd->add_option("--device", a->o.device, "cpu, cuda or cuda:N");
    cmd->add_option("--max-model-len", a->o.max_model_len, "longest prompt + completion (default: max_position_embeddings)")
        ->check(CLI::NonNegativeNumber);
    cmd->add_option("--max-batch", a->o.max_batch, "prompts per forward pass (and per request)")->check(CLI::Range(1, 4096));
    cmd->add_option("--max-batch-tokens", a->o.max_batch_tokens, "tokens per forward pass")->check(CLI::Range(1, 1 << 24));
    cmd->add_option("--max-logprobs", a->o.max_logprobs, "most alternatives per position (prompt_logprobs, logprobs)")
        ->check(CLI::Range(0, 1000));
    cmd->add_option("--max-body-bytes", a->o.max_body_bytes, "largest request body (413 beyond)")->check(CLI::Range(1024, 1 << 30));
    cmd->add_option("--batch-window-ms", a->o.batch_window_ms, "how long a queued prompt waits for others to share its pass")
        ->check(CLI::Range(0.0, 1000.0));
    cmd->callback([&run, a] {
        run = [a]() -> int {
            auto o = a->o;
            if (!a->api_key_env.empty()) {
                const char* key = std::getenv(a->api_key_env.c_str());
                XOPD_CHECK(key && *key, "serve: --api-key-env names '" << a->api_key_env << "', which is not set (export it with the key)");
                o.api_key = key;
            }
            XOPD_CHECK(!o.api_key.empty() || serve::isLoopbackHost(o.host),
                       "serve: refusing to serve on '" << o.host << "' without a key: other machines could use the model; pass "
                       "--api-key-env VAR (clients then send 'Authorization: Bearer <key>'), or bind 127.0.0.1");
            std::cerr << "xopd serve: loading '" << o.model_dir << "'\n";
            serve::TeacherServer server(o);
            const int port = server.bind();
            g_serve_stop = 0;
            std::signal(SIGINT, onServeStop);
            std::signal(SIGTERM, onServeStop);
            std::signal(SIGPIPE, SIG_IGN);  // a client that hangs up must not kill the server
            std::atomic<bool> done{false};
            std::thread watcher([&] {
                while (!done && g_serve_stop.load() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
                server.stop();
            });
            const std::string shownHost = o.host.find(':') != std::string::npos ? "[" + o.host + "]" : o.host;
            std::cout << "xopd serve: listening on http://" << shownHost << ":" << port << " (model '" << server.modelName() << "'"
                      << (o.api_key.empty() ? ", no key" : ", Bearer key required") << ")" << std::endl;
            const bool ok = server.listen();
            done = true;
            watcher.join();
            std::signal(SIGINT, SIG_DFL);
            std::signal(SIGTERM, SIG_DFL);
            XOPD_CHECK(ok || g_serve_stop.load() != 0, "serve: the listener on " << o.host << ":" << port << " failed");
            std::cerr << "xopd serve: stopped\n";
            return 0;
        };
    });
}

}  // namespace xopd::cli
