import { failureCollector } from '../../tools/dev/test-lanes';

describe('the lanes runner repeats each failure at the end', () => {
  it("keeps each '●' failure block with its lines, not the console blocks", () => {
    const { onLine, failures } = failureCollector();
    const output = [
      'PASS unit test/a.unit.test.ts',
      '  ● Console',
      '    console.log',
      '      hello',
      'FAIL integration test/b.test.ts',
      '  ● pipeline › an order reaches COMPLETED',
      '',
      '    expect(received).toBe(expected)',
      '    Expected: "COMPLETED"',
      '  ● pipeline › a cancel refunds',
      '    thrown: "Exceeded timeout"',
      '  console.error',
      '    noise after the block',
      'Summary of all failing tests',
      '  ● pipeline › an order reaches COMPLETED',
      '    printed again by the summary',
    ];
    output.forEach(onLine);
    expect(failures).toEqual([
      [
        '  ● pipeline › an order reaches COMPLETED',
        '',
        '    expect(received).toBe(expected)',
        '    Expected: "COMPLETED"',
      ],
      ['  ● pipeline › a cancel refunds', '    thrown: "Exceeded timeout"'],
    ]);
  });
});
