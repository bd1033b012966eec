// `billa convert`, `billa restore` and `billa inspect`: the weight pipeline from a terminal, with the flag
// names of BiLLa's own embedding_convert.py so its README reads across.
import { Option, type Command } from "commander";
import type { ConversionReport, RawApi, RequestInput } from "../../contract/api.js";
import { describePromptFormat, printJson, request, withApi } from "./cli-support.js";
import { followJob, ProgressPrinter } from "./job-progress.js";

/** Starts a conversion job and follows its events to the end; Ctrl+C cancels it cleanly. */
function followConversion(api: RawApi, start: () => Promise<{ jobId: string }>): Promise<ConversionReport> {
  const printer = new ProgressPrinter(process.stderr);
  return followJob<ConversionReport>(api, start, "conversion.cancel", (event) => {
    if (event.name === "conversion.progress") printer.show(event.payload);
    if (event.name === "conversion.warning") process.stderr.write(`\nwarning: ${event.payload.message}\n`);
    if (event.name !== "conversion.finished") return null;
    printer.end();
    const { outcome } = event.payload;
    return outcome.ok ? { done: outcome.report } : { failed: outcome.error };
  });
}

function printReport(report: ConversionReport): void {
  process.stdout.write(
    `Wrote ${report.outPath} (${(report.fileBytes / 1024 ** 2).toFixed(1)} MiB, ${report.tensorCount} tensors) in ${report.seconds.toFixed(1)} s.\n` +
      `Restored embedding sum: ${report.restoredEmbeddingSum}\n`,
  );
}

const methodOption = () => new Option("--method <method>", "decrypt restores BiLLa's released weights; encrypt makes released weights").choices(["decrypt", "encrypt"]).default("decrypt");

export function addConversionCommands(program: Command): void {
  program
    .command("convert")
    .description("restore BiLLa's released weights and write a GGUF for llama.cpp, in one pass")
    .requiredOption("--model_dir <dir>", "the BiLLa folder (config.json, tokenizer.model, pytorch_model-*.bin)")
    .option("--meta_llama_pth_file <file>", "Meta's original LLaMA-7B consolidated.00.pth, a Hugging Face LLaMA-7B folder or its *.index.json; omit when the weights are already restored")
    .requiredOption("--outfile <file>", "the GGUF file to write")
    .addOption(new Option("--outtype <type>", "the weights' type in the GGUF").choices(["f16", "bf16", "q8_0", "q4_0", "q4_k_m", "q5_k_m", "q6_k"]).default("q4_k_m"))
    .addOption(methodOption())
    .option("--name <name>", "the model's name in the GGUF (default: the folder's name)")
    .action((options: { model_dir: string; meta_llama_pth_file?: string; outfile: string; outtype: RequestInput<"conversion.start">["outType"]; method: "decrypt" | "encrypt"; name?: string }) =>
      withApi(program, async (api) => {
        const report = await followConversion(api, () =>
          request(api, "conversion.start", {
            modelDir: options.model_dir,
            ...(options.meta_llama_pth_file ? { originalLlama: options.meta_llama_pth_file } : {}),
            outFile: options.outfile,
            outType: options.outtype,
            method: options.method,
            ...(options.name ? { name: options.name } : {}),
          }),
        );
        printReport(report);
      }),
    );

  program
    .command("restore")
    .description("write a restored Hugging Face checkpoint (safetensors) from BiLLa's released weights; your files are not changed")
    .requiredOption("--model_dir <dir>", "the BiLLa folder as released")
    .requiredOption("--meta_llama_pth_file <file>", "Meta's original LLaMA-7B consolidated.00.pth, a Hugging Face LLaMA-7B folder or its *.index.json")
    .requiredOption("--out <dir>", "the new folder to write")
    .addOption(methodOption())
    .action((options: { model_dir: string; meta_llama_pth_file: string; out: string; method: "decrypt" | "encrypt" }) =>
      withApi(program, async (api) => {
        const report = await followConversion(api, () =>
          request(api, "conversion.restore", { modelDir: options.model_dir, originalLlama: options.meta_llama_pth_file, outDir: options.out, method: options.method }),
        );
        printReport(report);
      }),
    );

  program
    .command("inspect")
    .description("show a GGUF file's, a checkpoint's or a model folder's metadata and tensor table")
    .argument("<path>", "a .gguf file, a checkpoint file, or a model folder")
    .option("--json", "print JSON for machines")
    .action((path: string, options: { json?: boolean }) =>
      withApi(program, async (api) => {
        const inspection = await request(api, "model.inspect", { path });
        if (options.json) return printJson(inspection);
        process.stdout.write(`${inspection.kind === "gguf" ? "GGUF" : "Checkpoint"}: ${inspection.path}\n\n`);
        if (inspection.promptFormat) process.stdout.write(`  prompt format (auto): ${describePromptFormat(inspection.promptFormat)}\n`);
        for (const [key, value] of Object.entries(inspection.metadata)) process.stdout.write(`  ${key} = ${value}\n`);
        process.stdout.write(`\n${inspection.tensors.length} tensors:\n`);
        for (const tensor of inspection.tensors) {
          process.stdout.write(`  ${tensor.name.padEnd(40)} ${tensor.type.padEnd(6)} [${tensor.shape.join(", ")}]\n`);
        }
      }),
    );

}
