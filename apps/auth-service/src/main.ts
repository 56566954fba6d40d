import 'reflect-metadata';
import { runService } from '@app/http';
import { authService } from './service';

runService(authService);
