export * from './claims';
export * from './invalid-token.error';
export * from './jwt-codec';
export * from './token.config';
export * from './token-issuer';
export * from './token-verifier';
export * from './tokens.module';
