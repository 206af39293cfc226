import { App } from 'aws-cdk-lib';
import { addWinfleet } from './winfleet-app.ts';

const app = new App();
addWinfleet(app);
app.synth();
