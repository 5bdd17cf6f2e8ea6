import { App, TerraformStack, TerraformVariable, Fn } from 'cdktf';
import { Resource as NullResource } from '@cdktf/provider-null/lib/resource';
import { edit, exampleText, modelOf } from '../helpers/cluster-text';
import { buildCias } from '../../stacks/cias';
import { FastSynthStack, plainOrNeedsResolve } from '../../stacks/fast-stack';

/** cdktf's own synthesis of a stack, for comparison. */
function cdktfToTerraform(stack: TerraformStack): unknown {
  TerraformStack.prototype.prepareStack.call(stack);
  return TerraformStack.prototype.toTerraform.call(stack);
}

describe('FastSynthStack', () => {
  it.each([
    ['the example', exampleText()],
    ['terraform_data, VRRP auth, unicast', edit(exampleText(), 'provisioning:\n  resource_type: null_resource', 'keepalived: { auth: true, unicast: true }\nprovisioning:\n  resource_type: terraform_data')],
  ])('produces exactly what cdktf produces for every stack of %s', (_name, text) => {
    const app = new App({ outdir: '/tmp/cias-fast-unused', skipValidation: true });
    buildCias(app, modelOf(text));
    const stacks = app.node.children.filter(TerraformStack.isStack);
    expect(stacks.length).toBe(4);
    for (const stack of stacks) {
      expect(stack).toBeInstanceOf(FastSynthStack);
      stack.prepareStack();
      const fast = stack.toTerraform();
      expect(fast).toEqual(cdktfToTerraform(stack));
    }
  });

  it('hands fragments with tokens to cdktf (references, functions, variables)', () => {
    const app = new App({ outdir: '/tmp/cias-fast-unused', skipValidation: true });
    const stack = new FastSynthStack(app, 'tokens');
    const variable = new TerraformVariable(stack, 'v', { type: 'string' });
    const first = new NullResource(stack, 'first', { triggers: { v: variable.stringValue, n: Fn.upper(variable.stringValue) } });
    new NullResource(stack, 'second', { triggers: { id: first.id }, dependsOn: [first] });
    stack.prepareStack();
    const fast = stack.toTerraform();
    expect(fast).toEqual(cdktfToTerraform(stack));
    expect(JSON.stringify(fast)).toContain('${var.v}');
    expect(JSON.stringify(fast)).toContain('${null_resource.first.id}');
    expect(JSON.stringify(fast)).not.toContain('TfToken[');
  });

  it('recognises every token encoding as needing resolution', () => {
    const needs = (value: unknown) => typeof plainOrNeedsResolve(value) === 'symbol';
    expect(needs('${TfToken[TOKEN.1]}')).toBe(true);
    expect(needs(['#{TfToken[TOKEN.2]}'])).toBe(true);
    expect(needs({ '${TfToken[TOKEN.3]}': 1 })).toBe(true);
    expect(needs('String Map Token Value')).toBe(true);
    expect(needs(-123456789)).toBe(true);
    expect(needs(-1.8881545897087626e289)).toBe(true);
    expect(needs(new Date())).toBe(true);
    expect(needs({ a: [1, 'x', { b: true }] })).toBe(false);
    expect(plainOrNeedsResolve({ a: undefined, b: [1, undefined, 2] })).toEqual({ b: [1, 2] });
  });
});
