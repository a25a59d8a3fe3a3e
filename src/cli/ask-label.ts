// The one question `freshet init --from` asks on a terminal: which column is the label.
import readline from 'node:readline/promises';

export async function askLabel(columns: string[]): Promise<string | undefined> {
  const prompt = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = (await prompt.question(`Which column should the model predict? (${columns.join(', ')}): `)).trim();
    return answer === '' ? undefined : answer;
  } finally {
    prompt.close();
  }
}
