export * from './jest.cjs';
